"""Common French first names and surnames (INSEE frequency lists), for synthetic demo people."""

FEMALE_FIRST_NAMES = (
    "Marie Nathalie Isabelle Sylvie Catherine Françoise Christine Monique Valérie Sandrine "
    "Nicole Véronique Stéphanie Céline Julie Aurélie Camille Léa Manon Emma Chloé Inès Jade "
    "Louise Alice Lina Zoé Sarah Laura Pauline Justine Mélanie Émilie Claire Anne Martine "
    "Jacqueline Josiane Ginette Denise Odette Yvette Fatima Amina Nadia Samia Malika"
).split()
MALE_FIRST_NAMES = (
    "Jean Michel Philippe Alain Patrick Nicolas Christophe Pierre Christian Éric Frédéric "
    "Laurent Stéphane David Olivier Julien Thomas Alexandre Maxime Kevin Lucas Hugo Louis "
    "Gabriel Léo Raphaël Arthur Jules Adam Nathan Théo Enzo Mathis Bernard Daniel Gérard "
    "Roger Marcel André René Jacques Mohamed Karim Youssef Mehdi Rachid Bruno Didier Joël"
).split()
SURNAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
    "Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre "
    "Mercier Dupont Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc "
    "Guerin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez "
    "Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen Boyer Denis Lemaire Duval Joly "
    "Delattre Lefebvre Dufour Caron Wartel Delcroix Leclercq Delannoy Vandamme Vasseur "
    "Deprez Lecomte Dhainaut Duhamel Carpentier Desmet Kowalski Nowak Lewandowski Wozniak "
    "Szymanski Kaminski Dąbrowski Benali Haddad Mansouri Brahimi Cherif"
).split()
STREET_TYPES = ("rue", "rue", "rue", "avenue", "boulevard", "allée", "place", "impasse", "chemin")
STREET_NAMES = (
    "Jean Jaurès",
    "Victor Hugo",
    "de la République",
    "Pasteur",
    "Émile Zola",
    "Gambetta",
    "du Général de Gaulle",
    "Jules Ferry",
    "de la Gare",
    "Roger Salengro",
    "Léon Blum",
    "des Mineurs",
    "de Lens",
    "d'Arras",
    "de Béthune",
    "du 8 Mai 1945",
    "Anatole France",
    "Voltaire",
    "des Écoles",
    "de l'Église",
    "Paul Bert",
    "Kléber",
    "Lamartine",
    "des Tilleuls",
    "Édouard Vaillant",
    "Carnot",
    "Marcel Cachin",
    "de la Fosse 3",
    "Casimir Beugnet",
)
