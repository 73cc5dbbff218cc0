from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "accesmt.demo"
    verbose_name = "Territoire de démonstration"
