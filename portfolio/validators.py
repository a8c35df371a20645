from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def cnpj_digits(value: str) -> str:
    return "".join(ch for ch in value or "" if ch.isdigit())


def cnpj_is_valid(value: str) -> bool:
    """Check a CNPJ's two check digits (modulo 11 with weights 5..2,9..2 and 6..2,9..2)."""
    digits = cnpj_digits(value)
    if len(digits) != 14 or digits == digits[0] * 14:
        return False
    numbers = [int(d) for d in digits]
    for position, weights in (
        (12, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]),
        (13, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]),
    ):
        remainder = sum(n * w for n, w in zip(numbers[:position], weights, strict=True)) % 11
        check = 0 if remainder < 2 else 11 - remainder
        if numbers[position] != check:
            return False
    return True


def validate_cnpj(value: str) -> None:
    if value and not cnpj_is_valid(value):
        raise ValidationError(_("This CNPJ is not valid: check its 14 digits."), code="invalid_cnpj")


def format_cnpj(value: str) -> str:
    d = cnpj_digits(value)
    if len(d) != 14:
        return value
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"
