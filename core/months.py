"""Month names as Portuguese writes them inside a sentence: in lower case ("2 de dezembro de 2026"). Django's own
pt-BR catalogue capitalises them ("Dezembro"); Leme's catalogue (``LOCALE_PATHS``, read before Django's)
translates these same messages in lower case. They are listed here so that ``makemessages`` keeps them."""

from django.utils.translation import gettext_noop

MONTHS = [
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
]
