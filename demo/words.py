"""The words the demo portfolio is written with: company and people names, prices, and the Portuguese texts
of its timeline, tasks, churn requests, handoffs and reviews. Data only; ``demo.plans`` picks from it."""

from dataclasses import dataclass

from portfolio.models import ActivityKind, PlanTier, Segment, UtiExit


def _words(text: str) -> list[str]:
    return text.split(", ")


BUSINESS_TYPES = {
    Segment.SMB: _words(
        "Padaria, Farmácia, Clínica, Academia, Pet Shop, Restaurante, Escola de Idiomas, Auto Peças, Ótica, "
        "Floricultura, Imobiliária, Contabilidade, Salão, Odontologia, Papelaria, Mercearia, Laboratório, Pousada, "
        "Cervejaria, Confeitaria, Oficina, Agência, Estúdio, Livraria, Lavanderia, Buffet, Corretora, Marmoraria, "
        "Vidraçaria, Hortifruti"
    ),
    Segment.MID_MARKET: _words(
        "Distribuidora, Transportadora, Construtora, Indústria, Metalúrgica, Consultoria, Engenharia, Colégio, "
        "Hospital, Rede de Farmácias, Supermercados, Atacadista, Logística, Alimentos, Têxtil, Móveis, Calçados, "
        "Energia Solar, Telecom, Software, Cooperativa, Faculdade, Editora, Laboratórios, Incorporadora"
    ),
    Segment.ENTERPRISE: _words(
        "Grupo, Indústrias, Holding, Rede, Companhia, Hospital, Universidade, Agroindústria, Seguradora, Siderúrgica, "
        "Logística, Varejo, Energia, Saúde, Atacadão"
    ),
}
FIXED_NAMES = _words(
    "Pão Dourado, Bem Viver, Rio Sul, Boa Vista, Bom Sabor, Vida Plena, Nova Era, Santa Luzia, São Jorge, Santa "
    "Clara, Mais Saúde, Bem Estar, Novo Horizonte, Bela Vista, Ponte Alta, Três Irmãos, Primavera, Sol Nascente, "
    "Terra Firme, Mar Azul, Vale Verde, Serra Azul, Ouro Preto, Campo Belo, Porto Seguro, Monte Alegre, Lagoa Santa, "
    "Águas Claras, Pedra Branca, Vila Rica, Céu Aberto, Flor de Lis, Boa Esperança, Bom Retiro, Mão Amiga, Passo "
    "Certo, Caminho Novo, Raiz Forte"
)
NOUNS = _words(
    "Sol, Rio, Vale, Serra, Mar, Porto, Estrela, Horizonte, Aurora, Ipê, Jacarandá, Palmeira, Girassol, Atlântico, "
    "Planalto, Cerrado, Pantanal, Litoral, Campo, Monte, Lago, Cristal, Diamante, Farol, Âncora, Bússola, Colina, "
    "Recanto, Jardim, Oásis, Sabiá, Tucano, Arara, Beija-Flor, Cedro, Aroeira, Buriti, Pequi, Açaí, Jequitibá"
)
QUALIFIERS = _words(
    "Verde, Azul, Real, Nobre, Forte, Feliz, Central, Global, Ideal, Leal, Brasil, Sul, Norte, Paulista, Carioca, "
    "Capixaba, Potiguar, do Cerrado, do Sertão, do Litoral, da Serra, da Mata, do Vale, da Praia, do Planalto, do "
    "Sul, do Norte, de Minas, da Bahia, do Pará, de Goiás, do Paraná, do Pampa, da Amazônia, do Recôncavo, de Ouro"
)
FIRST_NAMES = _words(
    "Ana, Bruno, Carla, Diego, Eduarda, Felipe, Gabriela, Henrique, Isabela, João, Karina, Leonardo, Mariana, "
    "Nicolas, Patrícia, Rodrigo, Sabrina, Tiago, Vanessa, Wagner, Aline, Caio, Daniela, Fernanda, Gustavo, Heloísa, "
    "Igor, Juliana, Larissa, Marcelo, Natália, Otávio, Priscila, Renato, Simone, Vinícius, Letícia, André, Camila, "
    "Rafaela"
)
LAST_NAMES = _words(
    "Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes, Costa, Ribeiro, Martins, "
    "Carvalho, Almeida, Lopes, Soares, Fernandes, Vieira, Barbosa, Rocha, Dias, Nascimento, Andrade, Moreira, Nunes, "
    "Marques, Machado, Mendes, Freitas, Cardoso, Ramos, Gonçalves, Santana, Teixeira, Araújo, Pinto, Moura, "
    "Cavalcanti, Duarte"
)
DDDS = ["11", "11", "11", "21", "21", "31", "41", "47", "48", "51", "61", "62", "71", "81", "85", "19", "27"]


@dataclass(frozen=True)
class Feature:
    """A product feature and its gender, so a text says "o módulo" but "a agenda", "do módulo" but "da agenda"."""

    name: str
    feminine: bool = False

    def forms(self) -> dict[str, str]:
        """The feature alone and after each article or contraction the texts use: ``{feature}``, ``{o_feature}``,
        ``{do_feature}``, ``{no_feature}``, ``{ao_feature}``."""
        o, do, no, ao = ("a", "da", "na", "à") if self.feminine else ("o", "do", "no", "ao")
        return {
            "feature": self.name,
            "o_feature": f"{o} {self.name}",
            "do_feature": f"{do} {self.name}",
            "no_feature": f"{no} {self.name}",
            "ao_feature": f"{ao} {self.name}",
        }


FEATURES = [
    Feature("módulo financeiro"),
    Feature("painel de indicadores"),
    Feature("fluxo de aprovação"),
    Feature("integração com o ERP", feminine=True),
    Feature("relatório de vendas"),
    Feature("app mobile"),
    Feature("automação de cobranças", feminine=True),
    Feature("agenda compartilhada", feminine=True),
    Feature("emissão de notas", feminine=True),
]
# Areas of the customer's company, always written as "o time de {area}" (their genders differ: "o financeiro",
# "a logística", "as compras").
AREAS = ["financeiro", "comercial", "operações", "atendimento", "compras", "logística", "RH"]

PRODUCT = "Plataforma"
TIER_LABEL = {"essential": "Essencial", "pro": "Pro", "business": "Business", "enterprise": "Enterprise"}
TIER_PRICE = {"essential": (290, 690), "pro": (790, 1890), "business": (2190, 5490), "enterprise": (7900, 29900)}
TIER_BY_SEGMENT = {
    Segment.SMB: [(PlanTier.ESSENTIAL, 55), (PlanTier.PRO, 45)],
    Segment.MID_MARKET: [(PlanTier.PRO, 40), (PlanTier.BUSINESS, 60)],
    Segment.ENTERPRISE: [(PlanTier.BUSINESS, 30), (PlanTier.ENTERPRISE, 70)],
}
ADD_ONS = [
    ("Módulo Financeiro", 190, 790),
    ("Integração ERP", 290, 990),
    ("Usuários adicionais", 90, 1490),
    ("BI Avançado", 390, 1290),
    ("WhatsApp Business", 149, 599),
    ("Assinatura Eletrônica", 99, 399),
    ("API Premium", 490, 1990),
    ("Suporte Premium", 290, 1490),
]
SUFFIXES = {Segment.SMB: ["Ltda", "Ltda", "ME", "EPP"], Segment.MID_MARKET: ["Ltda", "Ltda", "S.A."]}
SUFFIXES[Segment.ENTERPRISE] = ["S.A.", "S.A.", "Ltda"]

CALLS = [
    (
        "Ligação de acompanhamento com {contact}",
        "Conversamos sobre o uso {do_feature}. {first} contou que o time de {area} já usa todo dia; combinamos "
        "revisar os relatórios na próxima semana.",
    ),
    (
        "Call de alinhamento: metas do trimestre",
        "{first} quer reduzir em 30% o tempo de fechamento do mês. Sugeri ativar {o_feature} e marcar um "
        "treinamento com o time de {area}.",
    ),
    (
        "Ligação proativa: queda de uso",
        "O uso caiu cerca de 40% nas últimas três semanas. {first} explicou que o time de {area} estava no "
        "inventário e retoma na segunda-feira; vou acompanhar os acessos.",
    ),
    (
        "Retorno sobre chamado de suporte",
        "O chamado sobre a exportação de notas foi resolvido. {first} confirmou que está tudo funcionando e "
        "elogiou a rapidez.",
    ),
    (
        "Ligação com {contact}: renovação",
        "Antecipei a conversa de renovação. {first} quer ampliar usuários se {o_feature} entregar o combinado até "
        "o fim do mês.",
    ),
]
MEETINGS = [
    (
        "Treinamento do time de {area}",
        "Treinamento de 1h30 com 8 pessoas do time de {area}. Dúvidas principais: permissões e relatórios. "
        "Enviei a gravação e o material de apoio.",
    ),
    (
        "Reunião executiva com {contact}",
        "Apresentei os resultados do semestre: 18% menos retrabalho no time de {area} e 2.300 pedidos processados. "
        "{first} pediu um plano para levar {o_feature} às filiais.",
    ),
    (
        "Workshop de boas práticas: {feature}",
        "Workshop com {first} e mais 5 usuários. Montamos juntos o fluxo ideal e ficou de tarefa revisar os "
        "cadastros antigos.",
    ),
    (
        "Reunião de planejamento com {contact}",
        "Revisamos o plano de sucesso: prioridade é automatizar {o_feature} antes da alta temporada.",
    ),
]
EMAILS = [
    (
        "E-mail: resumo da reunião e próximos passos",
        "Olá {first}, segue o resumo do que combinamos: ativar {o_feature}, treinar o time de {area} e revisar "
        "os indicadores em 30 dias. Qualquer dúvida, estou à disposição.",
    ),
    (
        "E-mail: convite para o webinar de novidades",
        "Olá {first}, na quinta às 15h apresentamos as novidades {do_feature}. Vale levar o time de {area}!",
    ),
    (
        "E-mail: material de apoio sobre {o_feature}",
        "Olá {first}, conforme prometido, envio o guia passo a passo {do_feature} e o vídeo de 10 minutos.",
    ),
    (
        "E-mail: pesquisa de satisfação do trimestre",
        "Olá {first}, sua opinião ajuda a melhorar o atendimento. São só 2 minutos.",
    ),
]
ONBOARDING_TOUCHES = [
    (
        ActivityKind.MEETING,
        "Reunião de kickoff com {contact}",
        "Kickoff da implantação: apresentamos o cronograma, definimos {first} como ponto focal e as metas de "
        "primeiro valor e primeiro sucesso.",
    ),
    (
        ActivityKind.CALL,
        "Ligação: importação de cadastros",
        "Acompanhei a importação dos cadastros com {first}; faltam ajustar 120 produtos com código duplicado.",
    ),
    (
        ActivityKind.MEETING,
        "Treinamento inicial do time de {area}",
        "Primeiro treinamento com o time de {area}: configuração de usuários, permissões e primeiro fluxo.",
    ),
    (
        ActivityKind.EMAIL,
        "E-mail: checklist da implantação",
        "Olá {first}, segue o checklist atualizado da implantação com os próximos passos e responsáveis.",
    ),
]
ONBOARDING_FOLLOW_UPS = [
    (
        "Ligação de acompanhamento da implantação",
        "Revisei com {first} o cronograma: faltam a configuração {do_feature} e o treinamento do time de {area}.",
    ),
    (
        "E-mail: status da implantação",
        "Olá {first}, segue o status da semana: cadastros importados, {feature} em configuração. Próximo passo: "
        "treinamento do time de {area}.",
    ),
    (
        "Ligação: destravar o primeiro valor",
        "O time de {area} ainda não emitiu o primeiro pedido. Combinei com {first} uma sessão prática na quinta.",
    ),
]
NOTES = [
    ("Nota: {contact} de férias até o dia 20", "Combinado falar com o time de {area} nesse período."),
    ("Nota: abriram vaga no time de {area}", "Pode ser sinal de crescimento; acompanhar para expansão."),
    ("Nota: sinal de expansão", "{first} comentou que vão abrir duas filiais no próximo semestre."),
    ("Nota: troca no time de {area}", "Novo coordenador começa mês que vem; marcar apresentação."),
]
DELINQUENT_EMAIL = (
    "E-mail: fatura em aberto",
    "Olá {first}, identificamos a fatura deste mês em aberto. Podemos ajudar com uma segunda via do boleto?",
)
TASK_TITLES = [
    "Enviar relatório de uso do trimestre para {contact}",
    "Agendar treinamento do time de {area}",
    "Confirmar participação no webinar de novidades",
    "Preparar proposta de renovação",
    "Ligar para {contact} sobre a queda de uso",
    "Revisar plano de sucesso com {contact}",
    "Validar integração com o ERP",
    "Apresentar {o_feature} para o time de {area}",
]
ONBOARDING_TASKS = ["Agendar treinamento do time de {area}", "Conferir importação dos cadastros com {contact}"]

CHURN_DETAILS = {
    "missing-integration": [
        "Precisam integrar com o SAP Business One para faturar; sem a integração o financeiro lança tudo duas "
        "vezes. O novo diretor financeiro quer cortar ferramentas que não conversam com o ERP.",
        "Migraram para o TOTVS Protheus e nossa integração só cobre o Omie; o time de vendas voltou para a planilha.",
    ],
    "missing-feature": [
        "Precisam emitir NFS-e em mais de um município; hoje emitem à mão para as filiais de Campinas e Sorocaba.",
        "Falta aprovação em dois níveis para pedidos acima de R$ 10 mil, exigida pela auditoria interna.",
    ],
    "performance": [
        "O relatório de fechamento leva mais de 5 minutos para abrir e trava no dia 1º; perderam o prazo de "
        "fechamento duas vezes."
    ],
    "bugs": [
        "O erro na conciliação bancária com o Itaú se repete há três meses (chamados 4821 e 4977); o financeiro "
        "perdeu a confiança nos saldos."
    ],
    "budget-cut": [
        "Fusão com um grupo do Sul: a nova diretoria congelou os contratos de software até março e pediu corte "
        "de 30% nas ferramentas.",
        "O faturamento caiu 25% no semestre e o sócio decidiu cortar as assinaturas que não são essenciais.",
    ],
    "cheaper-competitor": [
        "Recebeu proposta da concorrente por R$ 390 por mês com o mesmo módulo de cobrança; paga no máximo "
        "R$ 450 para ficar."
    ],
    "price-increase": [
        "Não aceitou o reajuste de 12% pelo IGP-M na renovação; o orçamento aprovado pela diretoria é 4% maior "
        "que o contrato atual."
    ],
    "champion-left": [
        "A coordenadora financeira que trouxe a ferramenta saiu em agosto; o substituto não conhece o sistema e "
        "prefere planilhas."
    ],
    "low-usage": [
        "Só 2 das 15 licenças foram usadas nos últimos 60 dias; o comercial nunca migrou os contatos da planilha."
    ],
    "failed-onboarding": [
        "A implantação parou na importação do cadastro de produtos (12 mil itens com código duplicado) e nunca "
        "chegou ao primeiro pedido emitido."
    ],
    "no-owner": [
        "Depois da reestruturação ninguém responde pelo processo de compras; as aprovações ficam paradas e o uso "
        "caiu a zero."
    ],
    "support-slow": [
        "Três chamados críticos levaram mais de 5 dias úteis em outubro; o gerente de operações quer suporte por "
        "telefone."
    ],
    "csm-relationship": [
        "Sentem que só são procurados na renovação: ficaram 4 meses sem contato e a revisão foi remarcada duas vezes."
    ],
    "closed": ["A loja da Rua Augusta encerrou as atividades em setembro; os sócios venderam o ponto."],
    "acquired": [
        "Foi adquirida por uma rede maior; a partir de janeiro todas as filiais usam o sistema da compradora."
    ],
    "strategy-change": [
        "Deixaram de vender para o varejo e só atendem distribuidores; o processo de pedidos que usavam deixou "
        "de existir."
    ],
    "seasonal": ["Funciona só na alta temporada, de dezembro a março; querem pausar e voltar em novembro."],
    "competitor-feature": [
        "O concorrente oferece roteirização de entregas integrada ao app do motorista; a logística exige isso "
        "até o fim do trimestre."
    ],
    "internal-build": ["O time de TI interno, com seis desenvolvedores, vai construir um módulo dentro do ERP."],
    "card-declined": [
        "Cartão corporativo recusado em três tentativas desde o dia 5; o financeiro não respondeu aos e-mails."
    ],
    "invoice-unpaid": [
        "Boleto de {amount} vencido há {days} dias; o financeiro alega aperto no fluxo de caixa e não deu "
        "previsão de pagamento."
    ],
    "financial-trouble": [
        "Entrou em recuperação judicial; o financeiro avisou que vai priorizar folha e fornecedores de insumos."
    ],
    "other-specified": [
        "O fundador faleceu e os herdeiros estão reorganizando a empresa; as decisões estão suspensas até o "
        "inventário terminar."
    ],
}
VOLUNTARY_REASONS = [
    ("missing-integration", 12),
    ("missing-feature", 10),
    ("performance", 4),
    ("bugs", 4),
    ("budget-cut", 12),
    ("cheaper-competitor", 10),
    ("price-increase", 6),
    ("champion-left", 8),
    ("low-usage", 10),
    ("failed-onboarding", 4),
    ("no-owner", 4),
    ("support-slow", 4),
    ("csm-relationship", 3),
    ("closed", 4),
    ("acquired", 3),
    ("strategy-change", 3),
    ("seasonal", 2),
    ("competitor-feature", 5),
    ("internal-build", 2),
    ("other-specified", 1),
]
INVOLUNTARY_REASONS = [("invoice-unpaid", 6), ("card-declined", 3), ("financial-trouble", 2)]
SAVE_OFFERS = [
    "Ofereci 20% de desconto por 3 meses, condicionado a um plano de adoção com metas semanais.",
    "Propus treinamento gratuito para o novo time e acompanhamento semanal durante 30 dias.",
    "Ofereci migrar para um plano menor mantendo todo o histórico.",
    "Levei o caso ao time de produto: a integração está no roadmap do trimestre; ofereci acesso ao beta.",
    "Ofereci congelar o reajuste por 12 meses com renovação antecipada.",
]
HANDOFF_RESULTS = [
    "Primeiros {n} pedidos emitidos pela plataforma e integração com o ERP concluída.",
    "Time de {area} treinado ({n} pessoas) e {feature} em uso diário.",
    "Cadastro de {n} clientes importado e a primeira cobrança automática enviada.",
]
HANDOFF_GOALS = [
    "Reduzir em 30% o tempo de fechamento do mês até o fim do semestre.",
    "Dobrar o número de usuários ativos em 6 meses.",
    "Acabar com as planilhas paralelas do time de {area} até o próximo trimestre.",
]
HANDOFF_RISKS = [
    "O champion acumula funções e tem pouco tempo para treinar o time.",
    "A integração com o ERP depende de um fornecedor externo.",
    "",
    "",
]
# Three answers to each success-review question, by the question's key (``portfolio.services.reviews``).
REVIEW_ANSWERS = {
    "goals_reached": [
        "Atingimos a meta de reduzir o retrabalho; a de usuários ativos ficou em 80% do combinado.",
        "O time de {area} passou a usar {o_feature} todos os dias, como combinado no último ciclo.",
        "A meta de implantar {o_feature} foi cumprida; a de dobrar os usuários ativos ficou para o próximo ciclo.",
    ],
    "results": [
        "{n}% menos lançamentos manuais e o fechamento do mês dois dias mais cedo.",
        "{n} usuários ativos por semana, contra metade disso no início do ciclo.",
        "O time de {area} economiza cerca de {n} horas por mês com {o_feature}.",
    ],
    "obstacles": [
        "A integração com o ERP atrasou por falta de tempo do TI do cliente.",
        "A troca de coordenador no time de {area} parou os treinamentos por um mês.",
        "Parte do time ainda mantém planilhas paralelas e não confia nos números {do_feature}.",
    ],
    "next_goals": [
        "Levar {o_feature} ao time de {area} até o fim do próximo ciclo.",
        "Chegar a {n} usuários ativos e acabar com as planilhas paralelas.",
        "Reduzir em 20% o tempo de fechamento do mês.",
    ],
    "means": [
        "Ativar {o_feature} e fazer treinamentos quinzenais com o time de {area}.",
        "Usar o painel de indicadores nas reuniões semanais e revisar as permissões dos usuários.",
        "Configurar a automação de cobranças e as notificações de pedidos atrasados.",
    ],
    "goal_owners": [
        "{first} responde por todas as metas; revisamos juntos em 30 dias.",
        "{first} responde pela adoção; a coordenação do time de {area}, pelo tempo de fechamento.",
        "A meta de usuários ativos fica com {first}; a de integração, com o TI do cliente.",
    ],
}
REVIEW_GOALS = [
    "Automatizar {o_feature}",
    "Chegar a {n} usuários ativos",
    "Reduzir o tempo de fechamento em 20%",
    "Integrar com o ERP",
]
REVIEW_OUTCOMES = [
    "Cliente satisfeito com os resultados; metas do próximo ciclo acordadas com {first}.",
    "Resultados abaixo do esperado no time de {area}; plano de ação com treinamento quinzenal.",
    "Ótima revisão: {first} pediu proposta para levar a plataforma às filiais.",
]
UTI_EXIT_NOTES = {
    UtiExit.RECOVERED: "O uso voltou ao patamar anterior e o decisor confirmou a continuidade.",
    UtiExit.CHURNED: "Mesmo com o plano de recuperação, a diretoria manteve o cancelamento.",
}
TAGS = ["estratégico", "piloto", "case de sucesso", "indicação", "risco financeiro"]
NEXT_TIER = {"essential": "Pro", "pro": "Business", "business": "Enterprise", "enterprise": "Enterprise Plus"}
