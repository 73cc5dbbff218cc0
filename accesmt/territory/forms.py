from django import forms


class CommuneSearchForm(forms.Form):
    q = forms.CharField(
        label="Commune ou code postal",
        max_length=120,
        help_text="Par exemple : Liévin ou 62800",
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
        error_messages={"required": "Indiquez le nom de votre commune ou son code postal."},
    )
