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


def install_defaults(category_model, reason_model, policy_model) -> None:
    """Create the default taxonomy and policies where missing; used by the data migration (with historical
    models) and by tests that start from an emptied database."""
    for code, pt, en, reasons in CHURN_TAXONOMY:
        category, _ = category_model.objects.get_or_create(code=code, defaults={"name_pt": pt, "name_en": en})
        for reason_code, reason_pt, reason_en, needs_detail in reasons:
            reason_model.objects.get_or_create(
                code=reason_code,
                defaults={
                    "category": category,
                    "name_pt": reason_pt,
                    "name_en": reason_en,
                    "needs_detail": needs_detail,
                },
            )
    for service_model, value_days, success_days, review_months, by_meeting, uti_days in POLICIES:
        policy_model.objects.get_or_create(
            service_model=service_model,
            defaults={
                "first_value_days": value_days,
                "first_success_days": success_days,
                "review_every_months": review_months,
                "handoff_by_meeting": by_meeting,
                "uti_days": uti_days,
            },
        )


# The onboarding milestones every service model starts with: (kind, pt, en). Installed as milestone templates by a
# data migration (portfolio 0017) and edited afterwards on the Settings pages.
MILESTONE_TEMPLATES = [
    (
        "first_value",
        "Primeiro valor: o primeiro sinal concreto de que o produto entrega",
        "First value: the first concrete sign the product delivers",
    ),
    (
        "first_success",
        "Primeiro sucesso: o resultado concreto da implantação",
        "First success: the onboarding's concrete result",
    ),
]
