"""The consent texts shown on the forms. Changing a text means a new version: the version of
the text a person agreed to is stored with the request (`Request.consent_text_version`)."""

CONSENT_TEXT_VERSION = "2025-06-v1"

CONSENT_PROCESSING = (
    "J'accepte que {cpts} enregistre les informations de ce formulaire pour rechercher un "
    "médecin traitant pour les personnes de mon foyer, et me contacte à ce sujet. Je peux "
    "quitter le dispositif à tout moment et demander l'accès, la correction ou la suppression "
    "de mes données."
)
CONSENT_SHARING = (
    "J'accepte que ces informations soient partagées avec les médecins généralistes contactés "
    "pour moi et, si j'ai besoin d'aide pour mes droits, avec le médiateur de l'Assurance "
    "Maladie, dans le respect du secret professionnel."
)
REFERRER_ATTESTATION = (
    "J'atteste être le professionnel qui oriente cette personne et avoir obtenu son accord "
    "pour l'enregistrement de ces informations par {cpts} et leur partage avec les médecins "
    "contactés (texte de consentement {version})."
)
ORAL_CONSENT = (
    "J'ai lu à la personne les deux textes de consentement et elle a donné son accord oral "
    "(texte {version})."
)
NOT_A_WAITING_LIST = (
    "Il ne s'agit pas d'une liste d'attente et il n'y a pas de garantie de trouver une "
    "solution pour chaque demande, mais les personnes les plus fragiles sont aidées en premier."
)
