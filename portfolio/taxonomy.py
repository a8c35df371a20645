"""The default churn-reason taxonomy and journey policies, installed by a data migration and editable
by the admin afterwards. Every reason is specific enough to drive an action."""

# (category code, pt, en, [(reason code, pt, en, needs_detail), ...])
CHURN_TAXONOMY = [
    (
        "product-gap",
        "Lacuna de produto",
        "Product gap",
        [
            (
                "missing-integration",
                "Falta integração com sistema do cliente (ERP, CRM…)",
                "Missing integration with the customer's system (ERP, CRM…)",
                True,
            ),
            (
                "missing-feature",
                "Falta funcionalidade essencial para o processo",
                "Missing a feature essential to their process",
                True,
            ),
            ("performance", "Lentidão ou instabilidade do produto", "Slowness or instability of the product", False),
            ("bugs", "Erros recorrentes não resolvidos", "Recurring bugs left unresolved", False),
        ],
    ),
    (
        "price",
        "Preço",
        "Price",
        [
            (
                "budget-cut",
                "Corte de orçamento (fusão, reestruturação, crise)",
                "Budget cut (merger, restructuring, crisis)",
                False,
            ),
            (
                "cheaper-competitor",
                "Concorrente mais barato com o mesmo resultado",
                "Cheaper competitor with the same outcome",
                True,
            ),
            ("price-increase", "Não aceitou o reajuste de preço", "Did not accept the price increase", False),
        ],
    ),
    (
        "adoption",
        "Adoção",
        "Adoption",
        [
            ("champion-left", "O champion saiu da empresa", "The champion left the company", False),
            (
                "low-usage",
                "Time não adotou: uso baixo após a implantação",
                "Team never adopted it: low usage after onboarding",
                False,
            ),
            (
                "failed-onboarding",
                "Implantação não chegou ao primeiro valor",
                "Onboarding never reached first value",
                False,
            ),
            ("no-owner", "Ninguém no cliente é dono do processo", "Nobody at the customer owns the process", False),
        ],
    ),
    (
        "service",
        "Atendimento",
        "Service",
        [
            ("support-slow", "Suporte demorado para resolver chamados", "Support too slow to resolve tickets", False),
            ("csm-relationship", "Relacionamento desgastado com o CSM", "Worn-out relationship with the CSM", False),
        ],
    ),
    (
        "business",
        "Negócio do cliente",
        "Customer's business",
        [
            ("closed", "Empresa encerrou as atividades", "The company closed down", False),
            (
                "acquired",
                "Empresa foi adquirida e usará a ferramenta da compradora",
                "Acquired; will use the buyer's tool",
                False,
            ),
            (
                "strategy-change",
                "Mudou a estratégia e o processo deixou de existir",
                "Changed strategy; the process no longer exists",
                True,
            ),
            (
                "seasonal",
                "Uso sazonal: vai pausar até a próxima temporada",
                "Seasonal use: pausing until next season",
                False,
            ),
        ],
    ),
    (
        "competitor",
        "Concorrência",
        "Competition",
        [
            (
                "competitor-feature",
                "Concorrente oferece funcionalidade que não temos",
                "A competitor offers a feature we lack",
                True,
            ),
            ("internal-build", "Vai desenvolver solução própria", "Will build their own solution", False),
        ],
    ),
    (
        "payment",
        "Inadimplência",
        "Non-payment",
        [
            ("card-declined", "Cartão recusado e não atualizado", "Card declined and never updated", False),
            ("invoice-unpaid", "Boleto ou fatura não pago no prazo", "Invoice left unpaid past due", False),
            ("financial-trouble", "Dificuldade financeira declarada", "Declared financial trouble", False),
        ],
    ),
    (
        "other",
        "Outro",
        "Other",
        [
            (
                "other-specified",
                "Outro motivo (descreva a causa concreta)",
                "Other reason (describe the concrete cause)",
                True,
            )
        ],
    ),
]

INVOLUNTARY_REASON = "invoice-unpaid"

POLICIES = [
    # service model, first value days, first success days, review every months, handoff by meeting, UTI days
    ("high", 10, 45, 3, True, 30),
    ("low", 14, 60, 6, False, 30),
    ("tech", 7, 30, None, False, 30),
]
