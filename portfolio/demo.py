"""Demo portfolio: a realistic Brazilian customer base for the demo team (see accounts.demo for how seeders run).

Every demo customer is first *planned*: ``plan_customer(index, seed, today, policies)`` is a pure function
that describes the customer's whole life: company, contacts, subscriptions and their changes over up to
24 months, onboarding milestones, handoff, success reviews, churn requests, UTI, expansion, timeline
touches and tasks. Each customer has its own random generator seeded by ``(seed, index)``, so the data is
the same on every run and does not depend on how many customers are built or in which order.

A plan is then written one of two ways:

* through ``portfolio.services`` (the default for up to ``BULK_ABOVE`` customers, and the first
  ``SHOWCASE`` customers of a larger base): every step is replayed on its own day, so the journey's rules,
  the ledger and the automatic tasks come from the same code the app runs;
* in bulk (the rest of a large base, e.g. ``--customers 50000``): the same plan becomes rows with
  ``bulk_create`` in chunks, and the MRR ledger is computed with ``ledger.compute_movements``. The rows
  mirror what the services would have written; ``mrr_recompute --check`` proves the ledger agrees.

The first ``len(SCRIPT)`` customers are scripted so that even a small demo shows every journey state,
and Lucas (the CSM people log in as) has a lively "My day". Lucas keeps at most ``LUCAS_CAP`` customers,
so a 50,000-customer base has one CSM with exactly 1,000 (what ``bench/portfolio_page.py`` measures).

Demo customers have ``external_id`` ``demo-NNNNN``; seeding again only adds the indices that are missing.
"""

import itertools
import logging
import random
import time as clock
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import reset_queries, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.demo import LEADER_KEY, demo_user
from accounts.models import User
from portfolio import ledger, services
from portfolio.models import (
    BILLING_MONTHS,
    Activity,
    ActivityKind,
    BillingPeriod,
    ChurnKind,
    ChurnOutcome,
    ChurnReason,
    ChurnRequest,
    Contact,
    ContactRole,
    Customer,
    ExpansionOpportunity,
    Handoff,
    HandoffChannel,
    Milestone,
    MilestoneKind,
    MrrMovement,
    OpportunityKind,
    OpportunitySource,
    OpportunityStage,
    OwnershipPeriod,
    PlanTier,
    ReviewStatus,
    SaveAttempt,
    Segment,
    ServiceModel,
    Stage,
    Subscription,
    SubscriptionStatus,
    SuccessReview,
    Tag,
    Task,
    TaskStatus,
    UtiExit,
    UtiStay,
)
from portfolio.money import reais

logger = logging.getLogger(__name__)

DEFAULT_CUSTOMERS = 300
BULK_ABOVE = 1000  # larger bases are built in bulk, after a SHOWCASE built through the services
SHOWCASE = 300
CHUNK = 1000
EXTERNAL_PREFIX = "demo-"
CSMS = ["lucas", "beatriz", "rafael", "camila", "thiago"]
ISM = "juliana"
FARMER = "gustavo"
LUCAS_CAP = 1000
HISTORY_DAYS = 730  # 24 months

# --- Who, and which story: the scripted showcase ----------------------------------------------------------

# (owner, scenario, segment). Every journey state appears in the first 25 customers, whatever the size.
SCRIPT = [
    ("lucas", "churn_open", Segment.MID_MARKET),
    ("lucas", "uti", Segment.MID_MARKET),
    ("lucas", "review_overdue", Segment.ENTERPRISE),
    ("lucas", "review_soon", Segment.MID_MARKET),
    ("lucas", "onboarding_late", Segment.MID_MARKET),
    ("lucas", "onboarding", Segment.SMB),
    ("lucas", "delinquent", Segment.SMB),
    ("lucas", "expansion", Segment.ENTERPRISE),
    ("lucas", "churned", Segment.SMB),
    ("lucas", "reactivated", Segment.MID_MARKET),
    ("lucas", "quiet", Segment.SMB),
    ("lucas", "downsold_recovered", Segment.MID_MARKET),
    ("beatriz", "churn_open_involuntary", Segment.SMB),
    ("beatriz", "uti_downsell", Segment.MID_MARKET),
    ("beatriz", "onboarding_trial", Segment.SMB),
    ("beatriz", "review_soon", Segment.ENTERPRISE),
    ("rafael", "churned_after_uti", Segment.MID_MARKET),
    ("rafael", "onboarding_late", Segment.ENTERPRISE),
    ("rafael", "review_overdue", Segment.MID_MARKET),
    ("camila", "churned_recent", Segment.SMB),
    ("camila", "expansion", Segment.MID_MARKET),
    ("camila", "churn_open", Segment.ENTERPRISE),
    ("thiago", "reactivated", Segment.SMB),
    ("thiago", "delinquent", Segment.MID_MARKET),
    ("thiago", "quiet", Segment.MID_MARKET),
]
ONBOARDING_SCENARIOS = {"onboarding", "onboarding_late", "onboarding_trial"}
# Everyone else, by weight: the shape of a healthy-but-real base.
SCENARIO_WEIGHTS = {
    "ongoing": 440,
    "review_overdue": 60,
    "review_soon": 50,
    "quiet": 80,
    "expansion": 60,
    "delinquent": 30,
    "churn_open": 20,
    "churn_open_involuntary": 5,
    "uti": 10,
    "uti_downsell": 5,
    "downsold_recovered": 15,
    "churned": 100,
    "churned_recent": 10,
    "churned_after_uti": 5,
    "reactivated": 25,
    "onboarding": 40,
    "onboarding_late": 15,
    "onboarding_trial": 15,
}
_SCENARIOS, _WEIGHTS = list(SCENARIO_WEIGHTS), list(SCENARIO_WEIGHTS.values())
# The first customer of each CSM in the script gets an overdue, a today and an upcoming task.
CHURNED_SCENARIOS = {"churned", "churned_recent", "churned_after_uti"}
TRIO = {
    owner: next(
        i for i, (o, s, _) in enumerate(SCRIPT) if o == owner and s not in ONBOARDING_SCENARIOS | CHURNED_SCENARIOS
    )
    for owner in CSMS
}
_LUCAS_SCRIPTED = sum(1 for owner, _, _ in SCRIPT if owner == "lucas")
_FIRST_LUCAS_SLOT = len(SCRIPT) + (-len(SCRIPT)) % len(CSMS)


def owner_for(index: int) -> str:
    """Round-robin over the five CSMs, except that Lucas stops at LUCAS_CAP customers; a function of the
    index alone, so a base grown later keeps everyone's customers."""
    if index < len(SCRIPT):
        return SCRIPT[index][0]
    if index % len(CSMS):
        return CSMS[index % len(CSMS)]
    if (index - _FIRST_LUCAS_SLOT) // len(CSMS) < LUCAS_CAP - _LUCAS_SCRIPTED:
        return "lucas"
    return CSMS[1 + (index // len(CSMS)) % (len(CSMS) - 1)]


# --- Words --------------------------------------------------------------------------------------------------


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
FEATURES = _words(
    "módulo financeiro, painel de indicadores, fluxo de aprovação, integração com o ERP, relatório de vendas, app "
    "mobile, automação de cobranças, agenda compartilhada, emissão de notas"
)
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
        "Conversamos sobre o uso do {feature}. {first} contou que o time de {area} já usa todo dia; combinamos "
        "revisar os relatórios na próxima semana.",
    ),
    (
        "Call de alinhamento: metas do trimestre",
        "{first} quer reduzir em 30% o tempo de fechamento do mês. Sugeri ativar o {feature} e marcar um "
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
        "Antecipei a conversa de renovação. {first} quer ampliar usuários se o {feature} entregar o combinado até "
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
        "Apresentei os resultados do semestre: 18% menos retrabalho no {area} e 2.300 pedidos processados. "
        "{first} pediu um plano para levar o {feature} às filiais.",
    ),
    (
        "Workshop de boas práticas: {feature}",
        "Workshop com {first} e mais 5 usuários. Montamos juntos o fluxo ideal e ficou de tarefa revisar os "
        "cadastros antigos.",
    ),
    (
        "Reunião de planejamento com {contact}",
        "Revisamos o plano de sucesso: prioridade é automatizar o {feature} antes da alta temporada.",
    ),
]
EMAILS = [
    (
        "E-mail: resumo da reunião e próximos passos",
        "Olá {first}, segue o resumo do que combinamos: ativar o {feature}, treinar o time de {area} e revisar "
        "os indicadores em 30 dias. Qualquer dúvida, estou à disposição.",
    ),
    (
        "E-mail: convite para o webinar de novidades",
        "Olá {first}, na quinta às 15h apresentamos as novidades do {feature}. Vale levar o time de {area}!",
    ),
    (
        "E-mail: material de apoio sobre {feature}",
        "Olá {first}, conforme prometido, envio o guia passo a passo do {feature} e o vídeo de 10 minutos.",
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
        "Revisei com {first} o cronograma: faltam a configuração do {feature} e o treinamento do time de {area}.",
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
    ("Nota: abriram vaga de analista de {area}", "Pode ser sinal de crescimento; acompanhar para expansão."),
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
    "Apresentar o {feature} para o time de {area}",
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
REVIEW_PAST = [
    "Meta de reduzir retrabalho atingida: {n}% menos lançamentos manuais.",
    "O time de {area} passou a usar o {feature} todos os dias.",
    "Atrasou a integração com o ERP por falta de tempo do TI do cliente.",
]
REVIEW_FUTURE = [
    "Levar o {feature} para o time de {area}.",
    "Treinar os novos usuários e revisar permissões.",
    "{first} é dono da meta; revisamos em 30 dias.",
]
REVIEW_GOALS = [
    "Automatizar o {feature}",
    "Chegar a {n} usuários ativos",
    "Reduzir o tempo de fechamento em 20%",
    "Integrar com o ERP",
]
REVIEW_OUTCOMES = [
    "Cliente satisfeito com os resultados; metas do próximo ciclo acordadas com {first}.",
    "Resultados abaixo do esperado no {area}; plano de ação com treinamento quinzenal.",
    "Ótima revisão: {first} pediu proposta para levar a plataforma às filiais.",
]
UTI_EXIT_NOTES = {
    UtiExit.RECOVERED: "O uso voltou ao patamar anterior e o decisor confirmou a continuidade.",
    UtiExit.CHURNED: "Mesmo com o plano de recuperação, a diretoria manteve o cancelamento.",
}
TAGS = ["estratégico", "piloto", "case de sucesso", "indicação", "risco financeiro"]
NEXT_TIER = {"essential": "Pro", "pro": "Business", "business": "Enterprise", "enterprise": "Enterprise Plus"}


# --- Small helpers ----------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return "".join(ch for ch in _fold(text).lower() if ch.isalnum())


def cnpj_for(index: int) -> str:
    """A valid, unique CNPJ for a demo customer: an 8-digit root spread over the index, head office 0001,
    and its two check digits."""
    root = f"{(index * 73_939_133 + 12_345_679) % 100_000_000:08d}"
    digits = [int(d) for d in root + "0001"]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def _reais(rng: random.Random, low: int, high: int) -> int:
    """A price in cents between two amounts in reais, rounded to R$ 10 (or R$ 1 under R$ 200)."""
    step = 10 if high >= 200 else 1
    return rng.randrange(low // step, high // step + 1) * step * 100


def _pick(rng: random.Random, weighted: list[tuple]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _moment(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


# --- The plan -------------------------------------------------------------------------------------------


@dataclass
class Line:
    """One subscription over time: the row it starts as and the rows that replace it at each change."""

    key: int
    product: str
    plan: str
    billing: str
    start: date
    amount: int
    # A converted trial starts as a row worth 0 and becomes paid that day. (A trial row's status turns into
    # "replaced" at the change, and a replaced row counts its amount: priced trial rows would put the trial
    # weeks into MRR once the ledger is recomputed.)
    trial_until: date | None = None
    in_trial: bool = False  # still a trial today
    changes: list[tuple[date, int]] = field(default_factory=list)  # (effective date, new amount per period)
    end: date | None = None
    ended_by_churn: bool = False
    delinquent_since: date | None = None
    opportunity: int | None = None  # index in plan.opportunities of the cross-sell that created it

    def amount_on(self, day: date) -> int:
        amount = self.amount
        for when, new in self.changes:
            if when <= day:
                amount = new
        return amount

    def last_change(self) -> date:
        return max([self.start, *(d for d, _ in self.changes), *([self.trial_until] if self.trial_until else [])])

    def runs_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end > day)

    def rows(self) -> list[dict]:
        """The subscription rows this line leaves, oldest first, as the services would write them."""
        cuts: list[tuple[date, int, str]] = []
        if self.trial_until:
            cuts.append((self.trial_until, self.amount, SubscriptionStatus.ACTIVE))
        cuts += [(when, amount, SubscriptionStatus.ACTIVE) for when, amount in self.changes]
        first_status = SubscriptionStatus.TRIAL if (self.trial_until or self.in_trial) else SubscriptionStatus.ACTIVE
        rows = [{"start": self.start, "amount": 0 if self.trial_until else self.amount, "status": first_status}]
        for when, amount, status in cuts:
            rows[-1].update(end=when, final=SubscriptionStatus.REPLACED)
            rows.append({"start": when, "amount": amount, "status": status})
        last = rows[-1]
        last["end"] = self.end
        if self.end:
            last["final"] = SubscriptionStatus.CANCELLED
        elif self.delinquent_since:
            last["final"] = SubscriptionStatus.DELINQUENT
        else:
            last["final"] = last["status"]
        return rows


@dataclass
class ContactPlan:
    name: str
    email: str
    phone: str
    role: str

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass
class ReviewPlan:
    due: date
    held_on: date
    past: list[dict]
    future: list[dict]
    goals: list[str]
    outcome: str


@dataclass
class ChurnPlan:
    kind: str
    reason: str
    detail: str
    requested_by: str
    requested_on: date
    offers: list[tuple[date, str]] = field(default_factory=list)
    outcome: str = ChurnOutcome.OPEN
    resolved_on: date | None = None
    downsell_to: int | None = None  # new amount of the main line, for a downsell
    uti_exit: str | None = None  # None while in UTI (or without UTI); recovered / churned when it left
    uti_exit_on: date | None = None
    uti_checkins_done: list[int] = field(default_factory=list)


@dataclass
class OpportunityPlan:
    kind: str
    source: str
    title: str
    mrr: int
    stage: str
    created_on: date
    closed_on: date | None = None


@dataclass
class TouchPlan:
    kind: str
    title: str
    body: str
    author: str
    on: date
    hour: int


@dataclass
class TaskPlan:
    title: str
    owner: str
    due: date
    created_on: date
    done_on: date | None = None
    notes: str = ""


@dataclass
class CustomerPlan:
    index: int
    scenario: str
    name: str
    cnpj: str
    segment: str
    plan_tier: str
    service_model: str
    owner: str
    ism: str | None
    farmer: str | None
    start: date
    renewal: date | None
    tags: list[str]
    contacts: list[ContactPlan]
    lines: list[Line] = field(default_factory=list)
    first_value_on: date | None = None
    first_success_on: date | None = None
    handoff: dict | None = None
    reviews: list[ReviewPlan] = field(default_factory=list)
    review_due: date | None = None  # the scheduled review at the end, if any
    reschedule_review: bool = False  # review_due differs from the cadence: set with review_schedule
    reactivated_on: date | None = None
    churns: list[ChurnPlan] = field(default_factory=list)
    opportunities: list[OpportunityPlan] = field(default_factory=list)
    touches: list[TouchPlan] = field(default_factory=list)
    tasks: list[TaskPlan] = field(default_factory=list)
    transitions: list[tuple[date, str, str]] = field(default_factory=list)
    cancelled_reviews: list[tuple[date, list[str]]] = field(default_factory=list)  # (due, carried goals) at churn

    @property
    def external_id(self) -> str:
        return f"{EXTERNAL_PREFIX}{self.index:05d}"

    @property
    def stage(self) -> str:
        return self.transitions[-1][2] if self.transitions else Stage.ONBOARDING

    @property
    def churn_day(self) -> date | None:
        """The day the customer churned for good (None if it is a customer today)."""
        return self.transitions[-1][0] if self.stage == Stage.CHURNED else None

    def contact(self, rng: random.Random) -> ContactPlan:
        return rng.choice(self.contacts)


def _customer_name(rng: random.Random, segment: str) -> tuple[str, str]:
    kind = rng.choice(BUSINESS_TYPES[segment])
    roll = rng.random()
    if roll < 0.35:
        core = rng.choice(FIXED_NAMES)
    elif roll < 0.85:
        core = f"{rng.choice(NOUNS)} {rng.choice(QUALIFIERS)}"
    else:
        a, b = rng.sample(LAST_NAMES, 2)
        core = rng.choice([f"{a} & {b}", f"{a} & Filhos", f"Irmãos {a}"])
    return f"{kind} {core} {rng.choice(SUFFIXES[segment])}", core


def _contacts(rng: random.Random, domain: str, *, decision_maker: bool, champion: bool) -> list[ContactPlan]:
    roles = [ContactRole.DECISION_MAKER] if decision_maker else []
    roles += [ContactRole.CHAMPION] if champion else []
    roles += [ContactRole.USER] * rng.randint(1, 3)
    roles += [ContactRole.FINANCE] if rng.random() < 0.6 else []
    roles += [ContactRole.TECHNICAL] if rng.random() < 0.4 else []
    contacts, used = [], set()
    for role in roles:
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if (first, last) not in used:
                used.add((first, last))
                break
        email = f"{_slug(first)}.{_slug(last)}@{domain}"
        phone = f"({rng.choice(DDDS)}) 9{rng.randint(6000, 9999)}-{rng.randint(1000, 9999)}"
        contacts.append(ContactPlan(f"{first} {last}", email, phone, role))
    return contacts


def _fill(template: str, rng: random.Random, plan: CustomerPlan, **extra) -> str:
    contact = plan.contact(rng)
    values = {
        "contact": contact.name,
        "first": contact.first,
        "feature": rng.choice(FEATURES),
        "area": rng.choice(AREAS),
        "n": rng.choice([12, 25, 40, 50, 80, 120, 200, 350]),
        **extra,
    }
    return template.format(**values)


def _between(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randint(0, max(0, (high - low).days)))


def plan_customer(index: int, seed: int, today: date, policies: dict[str, tuple]) -> CustomerPlan:
    """Everything about demo customer ``index``, decided by ``random.Random((seed, index))`` alone.

    ``policies`` maps each service model to (first value days, first success days, review months, handoff by
    meeting, UTI days), as ``services.policy_for`` has them.
    """
    rng = random.Random(f"{seed}:{index}")  # noqa: S311 - demo data, not security
    if index < len(SCRIPT):
        owner, scenario, segment = SCRIPT[index]
    else:
        owner = owner_for(index)
        scenario = rng.choices(_SCENARIOS, _WEIGHTS)[0]
        segment = _pick(rng, [(Segment.SMB, 60), (Segment.MID_MARKET, 30), (Segment.ENTERPRISE, 10)])
    if segment == Segment.ENTERPRISE:
        service_model = ServiceModel.HIGH_TOUCH
    elif segment == Segment.MID_MARKET:
        service_model = rng.choice([ServiceModel.HIGH_TOUCH, ServiceModel.LOW_TOUCH])
    else:
        service_model = rng.choice([ServiceModel.LOW_TOUCH, ServiceModel.TECH_TOUCH, ServiceModel.TECH_TOUCH])
    first_value_days, first_success_days, review_months, by_meeting, uti_days = policies[service_model]
    if scenario in ("review_overdue", "review_soon") and not review_months:
        scenario = "ongoing"
    tier = _pick(rng, TIER_BY_SEGMENT[segment])
    name, core = _customer_name(rng, segment)
    quiet = scenario == "quiet"
    contacts = _contacts(
        rng,
        f"{_slug(core)}.com.br",
        decision_maker=not quiet and rng.random() > 0.12,
        champion=not quiet and rng.random() > 0.12,
    )

    # When it started: onboarding customers recently, the others over the last 24 months.
    onboarding = scenario in ONBOARDING_SCENARIOS
    if scenario == "onboarding":
        start = today - timedelta(days=rng.randint(1, max(2, first_value_days - 1)))
    elif scenario == "onboarding_trial":
        start = today - timedelta(days=rng.randint(2, 12))
    elif scenario == "onboarding_late":
        if rng.random() < 0.6 or index < len(SCRIPT):
            # First value missed; first success due within the week: at risk.
            start = today - timedelta(days=first_success_days - rng.randint(1, 6))
        else:
            start = today - timedelta(days=first_success_days + rng.randint(1, 10))
    else:
        min_age = {"reactivated": 450, "churned_after_uti": 320, "downsold_recovered": 320}.get(scenario, 150)
        start = today - timedelta(days=rng.randint(min_age, HISTORY_DAYS))

    plan = CustomerPlan(
        index=index,
        scenario=scenario,
        name=name,
        cnpj=cnpj_for(index),
        segment=segment,
        plan_tier=tier,
        service_model=service_model,
        owner=owner,
        ism=ISM if service_model != ServiceModel.TECH_TOUCH else None,
        farmer=FARMER if scenario == "expansion" or (segment != Segment.SMB and rng.random() < 0.12) else None,
        start=start,
        renewal=None,
        tags=[],
        contacts=contacts,
    )

    # The main subscription.
    low, high = TIER_PRICE[tier]
    monthly = _reais(rng, low, high)
    billing = BillingPeriod.MONTHLY
    roll = rng.random()
    if (segment == Segment.ENTERPRISE and roll < 0.5) or (segment == Segment.MID_MARKET and roll < 0.15):
        billing = BillingPeriod.ANNUAL
    elif segment == Segment.MID_MARKET and roll < 0.25:
        billing = BillingPeriod.QUARTERLY
    elif segment == Segment.SMB and roll < 0.08:
        billing = BillingPeriod.ANNUAL
    months = BILLING_MONTHS[billing]
    amount = monthly * months if months < 12 else round(monthly * 12 * 0.9 / 100) * 100
    main = Line(0, PRODUCT, TIER_LABEL[tier], billing, start, amount)
    if scenario == "onboarding_trial":
        main.in_trial, main.billing, main.amount = True, BillingPeriod.MONTHLY, monthly
    elif segment == Segment.SMB and not onboarding and rng.random() < 0.2:
        main.trial_until = start + timedelta(days=14)
    plan.lines.append(main)
    if service_model == ServiceModel.HIGH_TOUCH and rng.random() < 0.6:
        plan.lines.append(Line(1, "Implantação assistida", "", BillingPeriod.ONE_OFF, start, _reais(rng, 1500, 12000)))
    multiplier = {Segment.SMB: 1, Segment.MID_MARKET: 2, Segment.ENTERPRISE: 4}[segment]

    def add_on(day: date, amount: int | None = None) -> Line:
        product, low, high = rng.choice(ADD_ONS)
        line = Line(len(plan.lines), product, "", BillingPeriod.MONTHLY, day, amount or _reais(rng, low, high))
        if amount is None:
            line.amount *= multiplier
        plan.lines.append(line)
        return line

    # Onboarding: first value, first success, handoff.
    fv_target = start + timedelta(days=first_value_days)
    fs_target = start + timedelta(days=first_success_days)
    if onboarding:
        if scenario != "onboarding_late" and (today - start).days >= 3 and rng.random() < 0.5:
            plan.first_value_on = min(today, start + timedelta(days=rng.randint(2, first_value_days)))
        elif scenario == "onboarding_late" and fs_target < today:
            plan.first_value_on = fv_target + timedelta(days=rng.randint(3, 8))
    else:
        plan.first_value_on = max(start + timedelta(days=1), fv_target + timedelta(days=rng.randint(-4, 6)))
        plan.first_success_on = max(
            plan.first_value_on + timedelta(days=1), fs_target + timedelta(days=rng.randint(-12, 12))
        )
        held = plan.first_success_on + timedelta(days=rng.randint(1, 6))
        contact_by_role = {c.role: c for c in contacts}
        people = [
            f"{c.name} ({label})"
            for role, label in ((ContactRole.DECISION_MAKER, "decisor"), (ContactRole.CHAMPION, "champion"))
            if (c := contact_by_role.get(role))
        ] or [f"{contacts[0].name} (usuário principal)"]
        plan.handoff = {
            "held_on": held,
            "channel": HandoffChannel.MEETING if by_meeting or rng.random() < 0.4 else HandoffChannel.EMAIL,
            "results": _fill(rng.choice(HANDOFF_RESULTS), rng, plan),
            "goals": _fill(rng.choice(HANDOFF_GOALS), rng, plan),
            "risks": rng.choice(HANDOFF_RISKS),
            "stakeholders": "; ".join(people),
        }
        plan.transitions.append((held, Stage.ONBOARDING, Stage.ONGOING))

    # The churn story, if any: when requests happened and how they ended.
    reason_pool = VOLUNTARY_REASONS
    requested_by = next((c.name for c in contacts if c.role == ContactRole.DECISION_MAKER), contacts[0].name)

    def churn_request(requested_on: date, *, involuntary: bool = False) -> ChurnPlan:
        code = _pick(rng, INVOLUNTARY_REASONS if involuntary else reason_pool)
        detail = rng.choice(CHURN_DETAILS[code])
        request = ChurnPlan(
            kind=ChurnKind.INVOLUNTARY if involuntary else ChurnKind.VOLUNTARY,
            reason=code,
            detail=detail,
            requested_by="Financeiro" if involuntary else requested_by,
            requested_on=requested_on,
        )
        plan.churns.append(request)
        return request

    history_end = today  # subscription history changes stop 45 days before this
    churn_on: date | None = None
    if scenario == "churn_open":
        request = churn_request(today - timedelta(days=rng.randint(0 if index else 2, 5)))
        if request.requested_on < today:
            request.offers.append((request.requested_on + timedelta(days=1), rng.choice(SAVE_OFFERS)))
        history_end = request.requested_on
    elif scenario == "churn_open_involuntary":
        main.delinquent_since = today - timedelta(days=rng.randint(18, 35))
        request = churn_request(main.delinquent_since + timedelta(days=15), involuntary=True)
        request.detail = request.detail.format(
            amount=reais(main.amount), days=(request.requested_on - main.delinquent_since).days
        )
        history_end = main.delinquent_since
    elif scenario in ("uti", "uti_downsell"):
        request = churn_request(today - timedelta(days=rng.randint(9, 18)))
        request.offers.append((request.requested_on + timedelta(days=1), rng.choice(SAVE_OFFERS)))
        request.resolved_on = request.requested_on + timedelta(days=rng.randint(2, 4))
        request.outcome = ChurnOutcome.RECOVERED if scenario == "uti" else ChurnOutcome.DOWNSELL
        request.uti_checkins_done = [1] if index < len(SCRIPT) else []
        history_end = request.requested_on
        plan.transitions.append((request.resolved_on, Stage.ONGOING, Stage.UTI))
    elif scenario in ("downsold_recovered", "churned_after_uti"):
        request = churn_request(today - timedelta(days=rng.randint(100, 200)))
        request.offers.append((request.requested_on + timedelta(days=1), rng.choice(SAVE_OFFERS)))
        request.resolved_on = request.requested_on + timedelta(days=rng.randint(2, 4))
        request.outcome = ChurnOutcome.DOWNSELL if scenario == "downsold_recovered" else ChurnOutcome.RECOVERED
        request.uti_checkins_done = [1, 2, 3]
        plan.transitions.append((request.resolved_on, Stage.ONGOING, Stage.UTI))
        if scenario == "downsold_recovered":
            request.uti_exit, request.uti_exit_on = UtiExit.RECOVERED, request.resolved_on + timedelta(days=uti_days)
            plan.transitions.append((request.uti_exit_on, Stage.UTI, Stage.ONGOING))
        else:
            request.uti_exit = UtiExit.CHURNED
            request.uti_exit_on = request.resolved_on + timedelta(days=rng.randint(18, uti_days))
            request.uti_checkins_done = [1, 2]
            churn_on = request.uti_exit_on
            plan.transitions.append((churn_on, Stage.UTI, Stage.CHURNED))
        history_end = request.requested_on
    elif scenario in ("churned", "churned_recent", "reactivated"):
        if scenario == "churned_recent":
            churn_on = today - timedelta(days=rng.randint(0, min(today.day - 1, 12)))
        elif scenario == "reactivated":
            churn_on = today - timedelta(days=rng.randint(230, (today - start).days - 200))
        else:
            churn_on = today - timedelta(days=rng.randint(20, (today - start).days - 110))
        request = churn_request(churn_on - timedelta(days=rng.randint(4, 20)))
        if rng.random() < 0.6:
            request.offers.append((request.requested_on + timedelta(days=1), rng.choice(SAVE_OFFERS)))
        request.outcome, request.resolved_on = ChurnOutcome.CHURNED, churn_on
        plan.transitions.append((churn_on, Stage.ONGOING, Stage.CHURNED))
        history_end = request.requested_on
    if scenario == "delinquent" or (scenario == "ongoing" and rng.random() < 0.04):
        main.delinquent_since = today - timedelta(days=rng.randint(2, 12))
        history_end = main.delinquent_since
        plan.tags.append("risco financeiro")

    # Subscription history between the handoff and the churn story: upsells, cross-sells, downgrades.
    if plan.handoff:
        window_start = plan.handoff["held_on"] + timedelta(days=20)
        window_end = history_end - timedelta(days=45)
        span = (window_end - window_start).days
        events = int(span / 30 / rng.uniform(5, 12)) if span > 0 else 0
        if scenario == "expansion":
            events = max(events, 2)
        if (span > 0 and scenario not in ("ongoing", "quiet")) or rng.random() < 0.8:
            events = max(events, 1 if span > 0 else 0)
        days = sorted(_between(rng, window_start, window_end) for _ in range(events))
        for n, day in enumerate(days):
            running_add_ons = [
                line for line in plan.lines[1:] if line.billing == BillingPeriod.MONTHLY and line.runs_on(day)
            ]
            roll = rng.random()
            if scenario == "expansion" and n == 0:
                roll = 0.5  # its first event is the won cross-sell
            if roll < 0.35:
                if main.last_change() < day and main.runs_on(day):
                    current = main.amount_on(day)
                    main.changes.append((day, round(current * rng.uniform(1.15, 1.5) / 1000) * 1000))
            elif roll < 0.7:
                line = add_on(day)
                if (scenario == "expansion" and n == 0) or rng.random() < 0.25:
                    opened = max(plan.handoff["held_on"], day - timedelta(days=rng.randint(10, 40)))
                    plan.opportunities.append(
                        OpportunityPlan(
                            OpportunityKind.CROSS_SELL,
                            rng.choice([OpportunitySource.PROACTIVE, OpportunitySource.REACTIVE]),
                            line.product,
                            line.amount,
                            OpportunityStage.WON,
                            opened,
                            day,
                        )
                    )
                    line.opportunity = len(plan.opportunities) - 1
            elif roll < 0.85 or not running_add_ons:
                if main.last_change() < day and main.runs_on(day):
                    current = main.amount_on(day)
                    main.changes.append((day, max(10_000, round(current * rng.uniform(0.7, 0.9) / 1000) * 1000)))
            else:
                line = rng.choice(running_add_ons)
                if line.last_change() < day:
                    line.end = day

    # The churn story's effects on subscriptions and the stage.
    for request in plan.churns:
        if request.outcome == ChurnOutcome.DOWNSELL:
            current = main.amount_on(request.resolved_on)
            request.downsell_to = max(10_000, round(current * rng.uniform(0.6, 0.8) / 1000) * 1000)
            main.changes.append((request.resolved_on, request.downsell_to))
    if churn_on:
        for line in plan.lines:
            if line.end is None:
                line.end, line.ended_by_churn = max(churn_on, line.start), True
    if scenario == "reactivated":
        plan.reactivated_on = min(today - timedelta(days=30), churn_on + timedelta(days=rng.randint(60, 160)))
        back = Line(len(plan.lines), PRODUCT, TIER_LABEL[tier], BillingPeriod.MONTHLY, plan.reactivated_on, monthly)
        back.amount = round(monthly * rng.uniform(0.7, 1.1) / 1000) * 1000
        plan.lines.append(back)
        plan.transitions.append((plan.reactivated_on, Stage.CHURNED, Stage.ONGOING))

    # Success reviews, on the service model's cadence, while the customer is a customer.
    alive = [(plan.handoff["held_on"], churn_on or today)] if plan.handoff else []
    if plan.reactivated_on:
        alive.append((plan.reactivated_on, today))
    if review_months:
        goals: list[str] = []
        for first_day, last_day in alive:
            due = ledger.add_months(first_day, review_months)
            plan.review_due = due
            while due < last_day:
                held = min(
                    last_day - timedelta(days=1), today - timedelta(days=1), due + timedelta(rng.randint(-7, 10))
                )
                held = max(held, first_day + timedelta(days=1), *(r.held_on + timedelta(days=1) for r in plan.reviews))
                if held >= last_day:
                    break
                past = [
                    {"q": q, "a": _fill(a, rng, plan)}
                    for q, a in zip(services.REVIEW_TEMPLATE["past"], rng.sample(REVIEW_PAST, 3), strict=True)
                ]
                future = [
                    {"q": q, "a": _fill(a, rng, plan)}
                    for q, a in zip(services.REVIEW_TEMPLATE["future"], rng.sample(REVIEW_FUTURE, 3), strict=True)
                ]
                goals = [_fill(g, rng, plan) for g in rng.sample(REVIEW_GOALS, 2)]
                plan.reviews.append(
                    ReviewPlan(due, held, past, future, goals, _fill(rng.choice(REVIEW_OUTCOMES), rng, plan))
                )
                due = ledger.add_months(held, review_months)
                plan.review_due = due
            if last_day < today:  # the customer churned: its scheduled review is cancelled
                plan.cancelled_reviews.append((due, goals))
        if plan.stage == Stage.CHURNED:
            plan.review_due = None
        elif scenario == "review_overdue":
            plan.review_due, plan.reschedule_review = today - timedelta(days=rng.randint(3, 25)), True
        elif scenario == "review_soon":
            plan.review_due, plan.reschedule_review = today + timedelta(days=rng.randint(1, 10)), True

    # Expansion opportunities still open (and some lost).
    opp_owner_start = plan.handoff["held_on"] if plan.handoff else start
    if plan.stage in (Stage.ONGOING, Stage.UTI) and (scenario == "expansion" or rng.random() < 0.12):
        plan.opportunities.append(
            OpportunityPlan(
                OpportunityKind.UPSELL,
                OpportunitySource.PROACTIVE,
                f"Upgrade para o plano {NEXT_TIER[tier]}",
                round(monthly * rng.uniform(0.2, 0.5) / 1000) * 1000,
                OpportunityStage.NEGOTIATION if scenario == "expansion" else rng.choice(["identified", "proposal"]),
                max(opp_owner_start, today - timedelta(days=rng.randint(5, 30))),
            )
        )
    if scenario == "expansion" and (today - opp_owner_start).days > 120:
        opened = _between(rng, opp_owner_start, today - timedelta(days=90))
        plan.opportunities.append(
            OpportunityPlan(
                OpportunityKind.CROSS_SELL,
                OpportunitySource.PROACTIVE,
                rng.choice(ADD_ONS)[0],
                _reais(rng, 190, 990),
                OpportunityStage.LOST,
                opened,
                opened + timedelta(days=rng.randint(15, 45)),
            )
        )

    # The timeline: human touches, newest first backwards, and a few notes.
    author = owner
    if onboarding:
        author = plan.ism or owner
        day = start
        for kind, title, body in ONBOARDING_TOUCHES:
            day = day + timedelta(days=rng.randint(0, 4))
            if day > today:
                break
            plan.touches.append(TouchPlan(kind, _fill(title, rng, plan), _fill(body, rng, plan), author, day, 10))
        day += timedelta(days=rng.randint(5, 9))
        while day < today:
            title, body = rng.choice(ONBOARDING_FOLLOW_UPS)
            kind = ActivityKind.EMAIL if title.startswith("E-mail") else ActivityKind.CALL
            plan.touches.append(TouchPlan(kind, _fill(title, rng, plan), _fill(body, rng, plan), author, day, 15))
            day += timedelta(days=rng.randint(5, 9))
    else:
        cadence = {ServiceModel.HIGH_TOUCH: 18, ServiceModel.LOW_TOUCH: 40, ServiceModel.TECH_TOUCH: 60}[service_model]
        last_day = plan.churn_day or today
        gap = rng.randint(50, 120) if quiet else rng.randint(0, 40 if cadence > 20 else 25)
        day = last_day - timedelta(days=gap)
        first_day = plan.handoff["held_on"] if plan.handoff else start
        while day > first_day and len(plan.touches) < 10:
            if service_model == ServiceModel.TECH_TOUCH:
                kind, (title, body) = ActivityKind.EMAIL, rng.choice(EMAILS)
            else:
                kind = rng.choice([ActivityKind.CALL, ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL])
                title, body = rng.choice({"call": CALLS, "meeting": MEETINGS, "email": EMAILS}[kind])
            plan.touches.append(
                TouchPlan(kind, _fill(title, rng, plan), _fill(body, rng, plan), author, day, rng.randint(8, 18))
            )
            day -= timedelta(days=max(3, int(cadence * rng.uniform(0.5, 1.5))))
        if rng.random() < 0.3 and plan.touches:
            title, body = rng.choice(NOTES)
            on = _between(rng, first_day, last_day)
            plan.touches.append(
                TouchPlan(ActivityKind.NOTE, _fill(title, rng, plan), _fill(body, rng, plan), author, on, 17)
            )
        if main.delinquent_since:
            title, body = DELINQUENT_EMAIL
            on = min(today, main.delinquent_since + timedelta(days=1))
            plan.touches.append(TouchPlan(ActivityKind.EMAIL, title, _fill(body, rng, plan), author, on, 11))

    # Tasks: the manual work on each CSM's list.
    if plan.stage != Stage.CHURNED:
        worker = plan.ism if onboarding and plan.ism else owner
        titles = ONBOARDING_TASKS if onboarding else TASK_TITLES
        if TRIO.get(owner) == index:
            for due in (today - timedelta(days=rng.randint(1, 6)), today, today + timedelta(days=rng.randint(2, 10))):
                created = max(start, min(today, due) - timedelta(days=rng.randint(1, 7)))
                plan.tasks.append(TaskPlan(_fill(rng.choice(titles), rng, plan), owner, due, created))
        elif rng.random() < 0.4:
            due = max(start, today + timedelta(days=rng.randint(-8, 20)))
            created = max(start, min(today, due) - timedelta(days=rng.randint(1, 7)))
            plan.tasks.append(TaskPlan(_fill(rng.choice(titles), rng, plan), worker, due, created))
        if not onboarding and rng.random() < 0.3:
            due = today - timedelta(days=rng.randint(10, 60))
            if due > start:
                done = min(today, due + timedelta(days=rng.randint(-2, 3)))
                created = max(start, min(due, done) - timedelta(days=rng.randint(1, 7)))
                plan.tasks.append(TaskPlan(_fill(rng.choice(titles), rng, plan), owner, due, created, done_on=done))

    # Renewal and tags.
    if plan.stage != Stage.CHURNED:
        renewal = plan.reactivated_on or start
        while renewal <= today:
            renewal = ledger.add_months(renewal, 12)
        plan.renewal = renewal
    if segment == Segment.ENTERPRISE and rng.random() < 0.5:
        plan.tags.append("estratégico")
    if rng.random() < 0.05:
        plan.tags.append("piloto")
    if scenario == "expansion" or (scenario == "ongoing" and rng.random() < 0.05):
        plan.tags.append("case de sucesso")
    if rng.random() < 0.05:
        plan.tags.append("indicação")
    return plan


# --- Writing a plan through the services -------------------------------------------------------------------


@contextmanager
def on_day(day: date, today: date) -> Iterator[None]:
    """Run the enclosed services as if it were ``day`` (9:00, a second later at each call).

    The services date what they do with ``timezone.now()`` and ``timezone.localdate()`` (tasks due
    "tomorrow", the UTI's month, the ledger "until today"); replaying two years of history step by step
    with the clock at each step's day keeps every one of those rules intact. Only this seeder does this,
    in its own process; the clock is always restored.
    """
    if day >= today:
        yield
        return
    base = _moment(day)
    ticks = itertools.count()
    real_now = timezone.now
    timezone.now = lambda: base + timedelta(seconds=next(ticks))
    try:
        yield
    finally:
        timezone.now = real_now


@dataclass
class Context:
    today: date
    people: dict[str, User]
    reasons: dict[str, ChurnReason]
    tags: dict[str, Tag]
    policies: dict[str, tuple]


def _write_with_services(plan: CustomerPlan, ctx: Context) -> Customer:
    people, today = ctx.people, ctx.today
    owner = people[plan.owner]
    ism = people[plan.ism] if plan.ism else None
    with on_day(plan.start, today):
        customer = services.customer_create(
            name=plan.name,
            actor=ism or people[LEADER_KEY],  # customers come in through implementation or the leader
            owner=owner,
            implementation_manager=ism,
            farmer=people[plan.farmer] if plan.farmer else None,
            cnpj=plan.cnpj,
            segment=plan.segment,
            plan_tier=plan.plan_tier,
            service_model=plan.service_model,
            start_date=plan.start,
            renewal_date=plan.renewal,
            external_id=plan.external_id,
            tags=[ctx.tags[t] for t in plan.tags],
        )
        for contact in plan.contacts:
            services.contact_create(
                customer=customer,
                actor=ism or owner,
                name=contact.name,
                email=contact.email,
                phone=contact.phone,
                role=contact.role,
            )

    rows: dict[int, Subscription] = {}
    requests: dict[int, ChurnRequest] = {}
    opportunities: dict[int, ExpansionOpportunity] = {}
    ops: list[tuple[date, int, int, Callable[[], None]]] = []

    def at(day: date, order: int, action: Callable[[], None]) -> None:
        ops.append((day, order, len(ops), action))

    for line in plan.lines:

        def start_line(line=line):
            if line.opportunity is not None:
                rows[line.key] = services.opportunity_win(
                    opportunity=opportunities[line.opportunity],
                    actor=owner,
                    effective_date=line.start,
                    product=line.product,
                )
                return
            rows[line.key] = services.subscription_create(
                customer=customer,
                product=line.product,
                plan=line.plan,
                amount_cents=0 if line.trial_until else line.amount,
                billing_period=line.billing,
                status=SubscriptionStatus.TRIAL if line.in_trial or line.trial_until else SubscriptionStatus.ACTIVE,
                start_date=line.start,
                actor=owner,
            )

        at(line.start, 2, start_line)
        if line.trial_until:
            at(
                line.trial_until,
                3,
                lambda line=line: _change(rows, line, line.trial_until, line.amount, owner, paid=True),
            )
        for when, amount in line.changes:
            if any(c.resolved_on == when and c.downsell_to == amount for c in plan.churns):
                continue  # the downsell is the churn request's resolution
            at(when, 3, lambda line=line, when=when, amount=amount: _change(rows, line, when, amount, owner))
        if line.end and not line.ended_by_churn:
            at(
                line.end,
                3,
                lambda line=line: services.subscription_cancel(
                    subscription=rows[line.key], actor=owner, end_date=line.end
                ),
            )
        if line.delinquent_since:
            at(
                line.delinquent_since,
                4,
                lambda line=line: services.subscription_mark_delinquent(
                    subscription=rows[line.key], since=line.delinquent_since, actor=None
                ),
            )

    for kind, achieved in (
        (MilestoneKind.FIRST_VALUE, plan.first_value_on),
        (MilestoneKind.FIRST_SUCCESS, plan.first_success_on),
    ):
        if achieved:
            at(
                achieved,
                5,
                lambda kind=kind, achieved=achieved: services.milestone_achieve(
                    milestone=customer.milestones.get(kind=kind), achieved_on=achieved, actor=ism or owner
                ),
            )
    if plan.handoff:
        at(
            plan.handoff["held_on"],
            6,
            lambda: services.handoff_complete(customer=customer, to_user=owner, actor=ism or owner, **plan.handoff),
        )
    for review in plan.reviews:
        at(
            review.held_on,
            7,
            lambda review=review: services.review_complete(
                review=SuccessReview.objects.get(customer=customer, status=ReviewStatus.SCHEDULED),
                held_on=review.held_on,
                past=review.past,
                future=review.future,
                goals=review.goals,
                outcome=review.outcome,
                actor=owner,
            ),
        )
    if plan.reactivated_on and plan.review_due:
        first_due = ledger.add_months(plan.reactivated_on, ctx.policies[plan.service_model][2])
        at(
            plan.reactivated_on,
            8,
            lambda: services.review_schedule(customer=customer, due_date=first_due, actor=owner),
        )
    for n, opportunity in enumerate(plan.opportunities):
        at(
            opportunity.created_on,
            1,
            lambda n=n, opportunity=opportunity: _open_opportunity(customer, owner, opportunities, n, opportunity),
        )
        if opportunity.stage == OpportunityStage.LOST:
            at(
                opportunity.closed_on,
                9,
                lambda n=n: services.opportunity_move(
                    opportunity=opportunities[n], stage=OpportunityStage.LOST, actor=owner
                ),
            )
    for n, request in enumerate(plan.churns):
        at(
            request.requested_on,
            10,
            lambda n=n, request=request: _open_churn(customer, owner, ctx, requests, n, request),
        )
        for day, offer in request.offers:
            at(
                day,
                11,
                lambda n=n, day=day, offer=offer: _save_attempt(requests[n], day, offer, owner),
            )
        if request.outcome != ChurnOutcome.OPEN:
            at(
                request.resolved_on,
                12,
                lambda n=n, request=request: _resolve_churn(customer, owner, rows, requests[n], request),
            )
            if request.outcome != ChurnOutcome.CHURNED:
                weeks = max(1, ctx.policies[plan.service_model][4] // 7 - 1)
                for week in request.uti_checkins_done:
                    due = request.resolved_on + timedelta(days=7 * week)
                    if week <= weeks and due < today and (request.uti_exit_on is None or due < request.uti_exit_on):
                        at(due, 13, lambda n=n, week=week: _checkin_done(requests[n], week, owner))
            if request.uti_exit:
                at(
                    request.uti_exit_on,
                    14,
                    lambda n=n, request=request: _exit_uti(customer, owner, requests[n], request),
                )
    for touch in plan.touches:
        at(
            touch.on,
            15,
            lambda touch=touch: services.activity_log(
                customer=customer,
                kind=touch.kind,
                title=touch.title,
                body=touch.body,
                author=people[touch.author],
                happened_at=_moment(touch.on, touch.hour),
            ),
        )
    for task in plan.tasks:
        at(task.done_on or today, 16, lambda task=task: _task(customer, people[task.owner], task))

    for day, _order, _n, action in sorted(ops, key=lambda op: op[:3]):
        # Some services change the customer through another instance (churn_request_resolve loads its own);
        # the next step must see the stage and MRR as they are now.
        customer.refresh_from_db()
        with on_day(day, today):
            action()

    if plan.reschedule_review and plan.review_due:
        services.review_schedule(customer=customer, due_date=plan.review_due, actor=owner)
    ledger.sync_customer(customer, today=today)
    # Rows whose creation time is a model default (the clock above does not reach those) get their day.
    dates = {"created_at": _moment(plan.start, 8)} | (
        {} if plan.transitions else {"stage_changed_at": _moment(plan.start)}
    )
    Customer.objects.filter(pk=customer.pk).update(**dates)
    OwnershipPeriod.objects.filter(customer=customer).update(started_at=_moment(plan.start))
    if plan.handoff:
        Handoff.objects.filter(customer=customer).update(completed_at=_moment(plan.handoff["held_on"], 10))
    return customer


def _change(rows, line: Line, when: date, amount: int | None, actor: User, paid: bool = False) -> None:
    rows[line.key] = services.subscription_change(
        subscription=rows[line.key],
        actor=actor,
        effective_date=when,
        amount_cents=amount,
        status=SubscriptionStatus.ACTIVE if paid else None,
    )


def _open_opportunity(customer, owner, opportunities, n: int, opportunity: OpportunityPlan) -> None:
    opportunities[n] = services.opportunity_create(
        customer=customer,
        actor=owner,
        kind=opportunity.kind,
        source=opportunity.source,
        title=opportunity.title,
        mrr_cents=opportunity.mrr,
    )
    ExpansionOpportunity.objects.filter(pk=opportunities[n].pk).update(created_at=_moment(opportunity.created_on))
    if opportunity.stage in (OpportunityStage.PROPOSAL, OpportunityStage.NEGOTIATION):
        services.opportunity_move(opportunity=opportunities[n], stage=opportunity.stage, actor=owner)


def _open_churn(customer, owner, ctx: Context, requests, n: int, request: ChurnPlan) -> None:
    requests[n] = services.churn_request_open(
        customer=customer,
        kind=request.kind,
        reason=ctx.reasons[request.reason],
        detail=request.detail,
        requested_by=request.requested_by,
        requested_on=request.requested_on,
        actor=None if request.kind == ChurnKind.INVOLUNTARY else owner,
    )
    ChurnRequest.objects.filter(pk=requests[n].pk).update(created_at=_moment(request.requested_on))


def _resolve_churn(customer, owner, rows, churn_request: ChurnRequest, request: ChurnPlan) -> None:
    services.churn_request_resolve(
        churn_request=churn_request,
        outcome=request.outcome,
        actor=owner,
        effective_date=request.resolved_on,
        downsell={rows[0]: request.downsell_to} if request.outcome == ChurnOutcome.DOWNSELL else None,
    )
    if request.outcome == ChurnOutcome.DOWNSELL:
        rows[0] = Subscription.objects.get(replaces=rows[0])
    if request.outcome == ChurnOutcome.CHURNED:
        _cancel_reviews(customer)


def _checkin_done(churn_request: ChurnRequest, week: int, owner: User) -> None:
    task = Task.objects.get(origin_key=f"uti:{churn_request.uti_stay.pk}:checkin:{week}")
    services.task_complete(task=task, actor=owner)


def _exit_uti(customer, owner, churn_request: ChurnRequest, request: ChurnPlan) -> None:
    services.uti_exit(
        stay=churn_request.uti_stay,
        decision=request.uti_exit,
        actor=owner,
        notes=UTI_EXIT_NOTES[request.uti_exit],
        effective_date=request.uti_exit_on,
    )
    if request.uti_exit == UtiExit.CHURNED:
        _cancel_reviews(customer)


def _cancel_reviews(customer: Customer) -> None:
    # The services leave a churned customer's scheduled review in place (there is no review_cancel yet);
    # a demo CSM should not see reviews due for customers who left.
    SuccessReview.objects.filter(customer=customer, status=ReviewStatus.SCHEDULED).update(status=ReviewStatus.CANCELLED)


def _save_attempt(churn_request: ChurnRequest, day: date, offer: str, owner: User) -> None:
    attempt = services.save_attempt_add(churn_request=churn_request, offer=offer, actor=owner)
    SaveAttempt.objects.filter(pk=attempt.pk).update(made_at=_moment(day, 14))


def _task(customer: Customer, owner: User, task: TaskPlan) -> None:
    created = services.task_create(
        customer=customer, owner=owner, title=task.title, due_date=task.due, notes=task.notes, created_by=owner
    )
    Task.objects.filter(pk=created.pk).update(created_at=_moment(task.created_on, 8))
    if task.done_on:
        services.task_complete(task=created, actor=owner)


# --- Writing plans in bulk ----------------------------------------------------------------------------------


def _label(choices, value) -> str:
    return str(choices(value).label)


def _write_in_bulk(plans: list[CustomerPlan], ctx: Context) -> None:
    """Insert a chunk of planned customers with a fixed number of queries, mirroring what the services
    would have written (rows, automatic tasks, timeline), and their ledger from ``compute_movements``."""
    today, people = ctx.today, ctx.people
    batch = 2000
    lines_rows: list[list[tuple[Line, list[Subscription]]]] = []
    customers = []
    for plan in plans:
        per_line = []
        for line in plan.lines:
            subscriptions = []
            for row in line.rows():
                subscriptions.append(
                    Subscription(
                        product=line.product,
                        plan=line.plan,
                        amount_cents=row["amount"],
                        billing_period=line.billing,
                        status=row["final"],
                        is_trial=row["status"] == SubscriptionStatus.TRIAL,
                        start_date=row["start"],
                        end_date=row["end"],
                        delinquent_since=line.delinquent_since
                        if row["final"] == SubscriptionStatus.DELINQUENT
                        else None,
                        created_at=_moment(row["start"]),
                    )
                )
            per_line.append((line, subscriptions))
        lines_rows.append(per_line)
        everything = [s for _, subscriptions in per_line for s in subscriptions]
        touches = [
            _moment(t.on, t.hour)
            for t in plan.touches
            if t.kind in (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL)
        ]
        changed_on = plan.transitions[-1][0] if plan.transitions else plan.start
        customers.append(
            Customer(
                name=plan.name,
                cnpj=plan.cnpj,
                segment=plan.segment,
                plan_tier=plan.plan_tier,
                service_model=plan.service_model,
                stage=plan.stage,
                stage_changed_at=_moment(changed_on),
                owner=people[plan.owner],
                implementation_manager=people[plan.ism] if plan.ism else None,
                farmer=people[plan.farmer] if plan.farmer else None,
                start_date=plan.start,
                renewal_date=plan.renewal,
                external_id=plan.external_id,
                mrr_cents=ledger.mrr_on(everything, today),
                last_touch_at=max(touches, default=None),
                created_at=_moment(plan.start, 8),
            )
        )
    Customer.objects.bulk_create(customers, batch_size=batch)

    # Subscriptions go in by generation, so each replacing row can point at the row it replaces.
    generation = 0
    while True:
        rows = []
        for customer, per_line in zip(customers, lines_rows, strict=True):
            for _line, subscriptions in per_line:
                if generation < len(subscriptions):
                    subscription = subscriptions[generation]
                    subscription.customer = customer
                    subscription.replaces = subscriptions[generation - 1] if generation else None
                    rows.append(subscription)
        if not rows:
            break
        Subscription.objects.bulk_create(rows, batch_size=batch)
        generation += 1

    periods, contacts, movements, milestones, handoffs, reviews, requests, opportunities, links = ([] for _ in range(9))
    activities: list[Activity] = []
    tasks: list[Task] = []
    later: list[tuple[CustomerPlan, Customer, list[tuple[Line, list[Subscription]]], list[ChurnRequest]]] = []
    for plan, customer, per_line in zip(plans, customers, lines_rows, strict=True):
        owner, ism = people[plan.owner], people[plan.ism] if plan.ism else None
        first_value_days, first_success_days = ctx.policies[plan.service_model][:2]
        everything = [s for _, subscriptions in per_line for s in subscriptions]

        def log(kind, title, on: date, author=owner, body="", hour=9, customer=customer):
            activities.append(
                Activity(
                    customer=customer,
                    kind=kind,
                    title=str(title)[:200],
                    body=body,
                    author=author,
                    happened_at=_moment(on, hour),
                )
            )

        periods.append(OwnershipPeriod(customer=customer, owner=owner, started_at=_moment(plan.start)))
        contacts += [
            Contact(customer=customer, name=c.name, email=c.email, phone=c.phone, role=c.role) for c in plan.contacts
        ]
        movements += ledger.movement_rows(customer, ledger.compute_movements(everything, until=today), [])
        links += [Customer.tags.through(customer_id=customer.pk, tag_id=ctx.tags[t].pk) for t in plan.tags]
        creator = ism or people[LEADER_KEY]  # as _write_with_services creates it
        log(ActivityKind.SYSTEM, _("Customer created, onboarding started"), plan.start, author=creator, hour=8)

        for kind, days, achieved, description in (
            (
                MilestoneKind.FIRST_VALUE,
                first_value_days,
                plan.first_value_on,
                _("First value: the first concrete sign the product delivers"),
            ),
            (
                MilestoneKind.FIRST_SUCCESS,
                first_success_days,
                plan.first_success_on,
                _("First success: the onboarding's concrete result"),
            ),
        ):
            target = plan.start + timedelta(days=days)
            milestones.append(
                Milestone(
                    customer=customer, kind=kind, description=description, target_date=target, achieved_on=achieved
                )
            )
            if achieved:
                title = _("Milestone reached late: %(m)s") if achieved > target else _("Milestone reached: %(m)s")
                log(
                    ActivityKind.MILESTONE,
                    title % {"m": _label(MilestoneKind, kind)},
                    achieved,
                    author=ism or owner,
                    body=description,
                )

        for line, subscriptions in per_line:
            name = f"{line.product} {line.plan}".strip()
            log(ActivityKind.SUBSCRIPTION, _("New subscription: %(sub)s") % {"sub": name}, line.start)
            for previous, current in itertools.pairwise(subscriptions):
                log(
                    ActivityKind.SUBSCRIPTION,
                    _("Subscription changed: %(sub)s, %(before)s → %(after)s a month")
                    % {"sub": name, "before": reais(previous.monthly_cents), "after": reais(current.monthly_cents)},
                    current.start_date,
                )
            if line.end and not line.ended_by_churn:
                log(ActivityKind.SUBSCRIPTION, _("Subscription cancelled: %(sub)s") % {"sub": name}, line.end)
            if line.delinquent_since:
                log(
                    ActivityKind.SUBSCRIPTION,
                    _("Payment overdue: %(sub)s") % {"sub": name},
                    line.delinquent_since,
                    author=None,
                )
                tasks.append(
                    Task(
                        customer=customer,
                        owner=owner,
                        title=_("Follow up the overdue payment of %(customer)s") % {"customer": plan.name},
                        due_date=line.delinquent_since + timedelta(days=1),
                        origin="delinquency",
                        origin_key=f"delinquency:{subscriptions[-1].pk}:{line.delinquent_since.isoformat()}",
                    )
                )

        if plan.handoff:
            held = plan.handoff["held_on"]
            handoffs.append(
                Handoff(
                    customer=customer,
                    from_user=ism or owner,
                    to_user=owner,
                    completed_at=_moment(held, 10),
                    **plan.handoff,
                )
            )
            channel = _label(HandoffChannel, plan.handoff["channel"])
            log(
                ActivityKind.HANDOFF,
                _("Handoff to %(csm)s (%(channel)s)") % {"csm": owner, "channel": channel},
                held,
                author=ism or owner,
                body=plan.handoff["results"],
                hour=10,
            )
        churned_by = next(
            (c for c in plan.churns if c.outcome == ChurnOutcome.CHURNED or c.uti_exit == UtiExit.CHURNED), None
        )
        notes = {
            (Stage.ONGOING, Stage.UTI): _("Saved from churn: recovery month."),
            (Stage.UTI, Stage.ONGOING): UTI_EXIT_NOTES[UtiExit.RECOVERED],
            (Stage.UTI, Stage.CHURNED): str(ctx.reasons[churned_by.reason]) if churned_by else "",
            (Stage.ONGOING, Stage.CHURNED): str(ctx.reasons[churned_by.reason]) if churned_by else "",
            (Stage.CHURNED, Stage.ONGOING): _("Reactivated: paying again."),
        }
        for day, before, after in plan.transitions:
            title = _("Stage: %(from)s → %(to)s") % {"from": _label(Stage, before), "to": _label(Stage, after)}
            by = ism or owner if before == Stage.ONBOARDING else owner
            log(ActivityKind.STAGE_CHANGE, title, day, author=by, body=notes.get((before, after), ""), hour=10)

        goals: list[str] = []
        for review in plan.reviews:
            answers = {"carried_goals": goals, "past": review.past, "future": review.future}
            reviews.append(
                SuccessReview(
                    customer=customer,
                    owner=owner,
                    due_date=review.due,
                    held_on=review.held_on,
                    status=ReviewStatus.DONE,
                    answers=answers,
                    goals=review.goals,
                    outcome=review.outcome,
                )
            )
            goals = review.goals
            log(ActivityKind.REVIEW, _("Success review held"), review.held_on, body=review.outcome)
        if plan.review_due:
            reviews.append(
                SuccessReview(
                    customer=customer, owner=owner, due_date=plan.review_due, answers={"carried_goals": goals}
                )
            )
        for due, carried in plan.cancelled_reviews:
            reviews.append(
                SuccessReview(
                    customer=customer,
                    owner=owner,
                    due_date=due,
                    status=ReviewStatus.CANCELLED,
                    answers={"carried_goals": carried},
                )
            )

        created_requests = []
        for request in plan.churns:
            reason = ctx.reasons[request.reason]
            churn_request = ChurnRequest(
                customer=customer,
                kind=request.kind,
                reason=reason,
                detail=request.detail,
                requested_by=request.requested_by,
                requested_on=request.requested_on,
                mrr_at_risk_cents=ledger.mrr_on(everything, request.requested_on),
                opened_by=None if request.kind == ChurnKind.INVOLUNTARY else owner,
                outcome=request.outcome,
                resolved_at=_moment(request.resolved_on) if request.resolved_on else None,
                created_at=_moment(request.requested_on),
            )
            requests.append(churn_request)
            created_requests.append(churn_request)
            title = _("Churn request (%(kind)s): %(reason)s") % {
                "kind": _label(ChurnKind, request.kind),
                "reason": reason,
            }
            log(
                ActivityKind.CHURN_REQUEST,
                title,
                request.requested_on,
                author=churn_request.opened_by,
                body=request.detail,
            )
            for day, offer in request.offers:
                log(ActivityKind.CHURN_REQUEST, _("Save attempt"), day, body=offer)
            if request.outcome in (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL):
                title = _("Churn request reversed: %(outcome)s") % {"outcome": _label(ChurnOutcome, request.outcome)}
                log(ActivityKind.CHURN_REQUEST, title, request.resolved_on, hour=11)

        for opportunity in plan.opportunities:
            opportunities.append(
                ExpansionOpportunity(
                    customer=customer,
                    kind=opportunity.kind,
                    source=opportunity.source,
                    title=opportunity.title,
                    mrr_cents=opportunity.mrr,
                    stage=opportunity.stage,
                    owner=people[plan.farmer] if plan.farmer else owner,
                    created_at=_moment(opportunity.created_on),
                    closed_at=_moment(opportunity.closed_on) if opportunity.closed_on else None,
                )
            )
            log(
                ActivityKind.EXPANSION,
                _("Expansion opportunity: %(title)s") % {"title": opportunity.title},
                opportunity.created_on,
            )

        for touch in plan.touches:
            log(touch.kind, touch.title, touch.on, author=people[touch.author], body=touch.body, hour=touch.hour)
        for task in plan.tasks:
            tasks.append(
                Task(
                    customer=customer,
                    owner=people[task.owner],
                    title=task.title,
                    due_date=task.due,
                    notes=task.notes,
                    status=TaskStatus.DONE if task.done_on else TaskStatus.OPEN,
                    completed_at=_moment(task.done_on, 16) if task.done_on else None,
                    created_by=owner,
                    created_at=_moment(task.created_on, 8),
                )
            )
        later.append((plan, customer, per_line, created_requests))

    OwnershipPeriod.objects.bulk_create(periods, batch_size=batch)
    Contact.objects.bulk_create(contacts, batch_size=batch)
    MrrMovement.objects.bulk_create(movements, batch_size=batch)
    Customer.tags.through.objects.bulk_create(links, batch_size=batch)
    Milestone.objects.bulk_create(milestones, batch_size=batch)
    Handoff.objects.bulk_create(handoffs, batch_size=batch)
    SuccessReview.objects.bulk_create(reviews, batch_size=batch)
    ChurnRequest.objects.bulk_create(requests, batch_size=batch)
    ExpansionOpportunity.objects.bulk_create(opportunities, batch_size=batch)

    # What hangs off churn requests: save attempts, UTI stays and the tasks the services would have created.
    attempts, stays, stay_tasks = [], [], []
    for plan, customer, _per_line, created_requests in later:
        owner = people[plan.owner]
        uti_days = ctx.policies[plan.service_model][4]
        for request, churn_request in zip(plan.churns, created_requests, strict=True):
            attempts += [
                SaveAttempt(churn_request=churn_request, offer=offer, by=owner, made_at=_moment(day, 14))
                for day, offer in request.offers
            ]
            tasks.append(
                Task(
                    customer=customer,
                    owner=owner,
                    title=_("Work the churn request of %(customer)s") % {"customer": plan.name},
                    due_date=request.requested_on,
                    origin="churn_request",
                    origin_key=f"churn_request:{churn_request.pk}",
                    status=TaskStatus.OPEN if request.outcome == ChurnOutcome.OPEN else TaskStatus.DONE,
                    completed_at=_moment(request.resolved_on, 11) if request.resolved_on else None,
                )
            )
            if request.outcome in (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL):
                stay = UtiStay(
                    customer=customer,
                    churn_request=churn_request,
                    started_on=request.resolved_on,
                    ends_on=request.resolved_on + timedelta(days=uti_days),
                    exit=request.uti_exit or UtiExit.OPEN,
                    exited_on=request.uti_exit_on,
                    exit_notes=UTI_EXIT_NOTES[request.uti_exit] if request.uti_exit else "",
                )
                stays.append(stay)
                stay_tasks.append((plan, customer, request, stay, uti_days))
    SaveAttempt.objects.bulk_create(attempts, batch_size=batch)
    UtiStay.objects.bulk_create(stays, batch_size=batch)
    for plan, customer, request, stay, uti_days in stay_tasks:
        owner = people[plan.owner]
        weeks = max(1, uti_days // 7 - 1)
        for week in range(1, weeks + 1):
            due = stay.started_on + timedelta(days=7 * week)
            done = (
                week in request.uti_checkins_done and due < today and (stay.exited_on is None or due < stay.exited_on)
            )
            status = TaskStatus.DONE if done else TaskStatus.CANCELLED if stay.exited_on else TaskStatus.OPEN
            tasks.append(
                Task(
                    customer=customer,
                    owner=owner,
                    due_date=due,
                    origin="uti",
                    origin_key=f"uti:{stay.pk}:checkin:{week}",
                    title=_("UTI: weekly check-in call with %(customer)s (%(n)s/%(total)s)")
                    % {"customer": plan.name, "n": week, "total": weeks},
                    status=status,
                    completed_at=_moment(due, 15) if done else None,
                )
            )
        tasks.append(
            Task(
                customer=customer,
                owner=owner,
                due_date=stay.ends_on,
                origin="uti",
                origin_key=f"uti:{stay.pk}:exit",
                title=_("UTI: closing review with %(customer)s — decide the exit") % {"customer": plan.name},
                status=TaskStatus.CANCELLED if stay.exited_on else TaskStatus.OPEN,
            )
        )
    Task.objects.bulk_create(tasks, batch_size=batch)
    Activity.objects.bulk_create(activities, batch_size=batch)


# --- The seeder ---------------------------------------------------------------------------------------------


def _context(today: date) -> Context:
    people = {key: demo_user(key) for key in [*CSMS, ISM, FARMER, LEADER_KEY]}
    policies = {}
    for service_model in ServiceModel.values:
        policy = services.policy_for(service_model)
        policies[service_model] = (
            policy.first_value_days,
            policy.first_success_days,
            policy.review_every_months,
            policy.handoff_by_meeting,
            policy.uti_days,
        )
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    reasons = {reason.code: reason for reason in ChurnReason.objects.select_related("category")}
    return Context(today=today, people=people, reasons=reasons, tags=tags, policies=policies)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def seed_portfolio(customers: int | None = None, seed: int = 2026, journeys: int | None = None, **_) -> list[str]:
    """Create the demo customers that are missing (``customers`` of them, 300 by default; 0 for none).

    The first ``journeys`` customers are built through the services (all of them up to BULK_ABOVE, else the
    first SHOWCASE); the rest in bulk. Tests pass ``journeys`` to force either path.
    """
    total = DEFAULT_CUSTOMERS if customers is None else customers
    if total <= 0:
        return ["customers: none asked for"]
    if journeys is None:
        journeys = total if total <= BULK_ABOVE else min(total, SHOWCASE)
    existing = set(
        Customer.objects.filter(external_id__startswith=EXTERNAL_PREFIX).values_list("external_id", flat=True)
    )
    missing = [i for i in range(total) if f"{EXTERNAL_PREFIX}{i:05d}" not in existing]
    if not missing:
        return [f"customers: all {total} demo customers already there"]
    today = timezone.localdate()
    ctx = _context(today)
    started = clock.monotonic()
    through_services = [i for i in missing if i < journeys]
    in_bulk = [i for i in missing if i >= journeys]
    for chunk in _chunks(through_services, 25):
        with transaction.atomic():
            for index in chunk:
                _write_with_services(plan_customer(index, seed, today, ctx.policies), ctx)
    for chunk in _chunks(in_bulk, CHUNK):
        with transaction.atomic():
            _write_in_bulk([plan_customer(index, seed, today, ctx.policies) for index in chunk], ctx)
        reset_queries()  # with DEBUG on, Django would keep every (huge) bulk INSERT in memory
        logger.info("demo customers written", extra={"up_to": chunk[-1], "seconds": clock.monotonic() - started})
    stages = dict(
        Customer.objects.filter(external_id__startswith=EXTERNAL_PREFIX)
        .values_list("stage")
        .annotate(n=Count("pk"))
        .order_by()
    )
    summary = ", ".join(f"{stages.get(stage, 0)} {_label(Stage, stage).lower()}" for stage in Stage.values)
    return [
        f"customers: {len(missing)} created ({len(through_services)} through the services, {len(in_bulk)} in bulk) "
        f"in {clock.monotonic() - started:.0f}s; {len(existing)} already there",
        f"customers by stage: {summary}",
    ]
