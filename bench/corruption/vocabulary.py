"""The words people are made of: French given and family names, nicknames, streets, e-mail providers.

Written for this corruption model alone (it shares nothing with indexers/demo). Lists are in order
of frequency: the first family names are the most common in France, the tail is built from
syllables so that most people in a large population have a name few others carry.
"""

from __future__ import annotations

import random
from functools import lru_cache
from itertools import product


def _words(text: str) -> tuple[str, ...]:
    """A list written as prose: names separated by spaces or new lines."""
    return tuple(text.split())


# The most frequent French family names, most frequent first (INSEE births 1891–1990, roughly).
COMMON_FAMILY_NAMES: tuple[str, ...] = (
    *_words(
        """\nMartin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefebvre Leroy\nRoux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller\nLefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand Gauthier Garcia\nPerrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand Duval Denis Dumont\nMarie Lemaire Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard\nBarbier Arnaud Martinez Gérard Roche Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre\nAubert Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet\nRolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis\nMoulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Paris Poirier\nMarty Aubry Guyot Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly Hervé\nSchneider Fernandez Collet Léger Bouvier Julien Prévost Millet Perrot Daniel Cousin Germain Breton\nBesson Langlois Rémy Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Weber Mallet Hamon\nBoulanger Jacob Monnier Michaud Rodriguez Guichard Gillet Étienne Grondin Poulain Tessier Chevallier\nCollin Chauvin Bouchet Gay Lemaître Bénard Maréchal Humbert Reynaud Antoine Hoarau Perret Barthélemy\nCordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte\n"""
    ),
    "Da Silva",
    "Le Gall",
    "Le Roux",
    "Le Goff",
    "De Oliveira",
    "Dos Santos",
)

_TAIL_HEADS = (
    "Ber",
    "Cha",
    "Dela",
    "Fon",
    "Gar",
    "Lam",
    "Mar",
    "Pel",
    "Ros",
    "Tes",
    "Vau",
    "Bou",
    "Cor",
    "Dur",
    "Gui",
    "Jou",
    "Lan",
    "Mon",
    "Per",
    "Ri",
    "Sau",
    "Thi",
    "Vil",
    "Bes",
    "Cam",
    "Del",
    "Fou",
    "Gre",
    "Her",
    "Lar",
    "Mic",
    "Nor",
    "Pon",
    "Quen",
    "Rol",
    "Ser",
    "Tar",
    "Ker",
    "Lé",
    "Mau",
)
_TAIL_MIDDLES = ("", "an", "el", "ar", "on", "ou", "er", "il", "ag", "ev")
_TAIL_ENDS = (
    "et",
    "ot",
    "ard",
    "ier",
    "in",
    "ois",
    "eau",
    "aud",
    "ault",
    "ac",
    "y",
    "elle",
    "ès",
    "oux",
    "and",
    "ain",
    "ert",
    "ec",
    "ade",
    "ieu",
)

# Given names by sex, most frequent first; composed names are common among people born 1940–1990.
MALE_GIVEN_NAMES: tuple[str, ...] = (
    *_words(
        """\nJean Pierre Michel Philippe Alain Nicolas Christophe Patrick Daniel Bernard Éric Thierry Stéphane\nFrédéric Laurent Julien Sébastien David Pascal Olivier Jacques Christian François Thomas Alexandre\nDominique Antoine Guillaume Vincent Mathieu Maxime Hugo Lucas Louis Gabriel Raphaël Arthur Paul Léo\nRomain Kévin Yannick Franck Gérard René Marcel André Georges Henri Claude Serge Didier Bruno Hervé\nJérôme Cédric Arnaud Benoît Fabrice Ludovic Emmanuel Gilles Xavier Yves Joël Rémi Théo Nathan\n"""
    ),
    "Jean-Pierre",
    "Jean-Claude",
    "Jean-Luc",
    "Jean-Marc",
    "Jean-François",
    "Jean-Paul",
)
FEMALE_GIVEN_NAMES: tuple[str, ...] = (
    *_words(
        """\nMarie Nathalie Isabelle Sylvie Catherine Christine Françoise Valérie Sandrine Véronique Martine\nStéphanie Céline Sophie Monique Nicole Julie Aurélie Caroline Émilie Camille Laura Sarah Léa Manon\nChloé Emma Inès Jade Louise Alice Anne Brigitte Chantal Danielle Patricia Élisabeth Hélène Laurence\nFlorence Corinne Virginie Audrey Mélanie Claire Pauline Charlotte Élodie Jeanne Josiane Annie Agnès\nKarine Delphine Muriel Dominique Claude Océane Clémence Margaux Lucie Juliette Mathilde Anaïs\n"""
    ),
    "Marie-Claire",
    "Anne-Sophie",
    "Marie-Christine",
    "Marie-Thérèse",
    "Anne-Marie",
    "Marie-Laure",
)

NICKNAMES: dict[str, tuple[str, ...]] = {
    "Jean-Pierre": ("JP", "Jean-Pi"),
    "Jean-Claude": ("JC",),
    "Christophe": ("Chris", "Christo"),
    "Alexandre": ("Alex",),
    "Nicolas": ("Nico",),
    "Frédéric": ("Fred",),
    "Emmanuel": ("Manu",),
    "Dominique": ("Dom",),
    "Guillaume": ("Guigui",),
    "Sébastien": ("Seb", "Séb"),
    "Maxime": ("Max",),
    "Mathieu": ("Math",),
    "Julien": ("Ju",),
    "Thomas": ("Tom",),
    "Catherine": ("Cathy", "Cath"),
    "Stéphanie": ("Steph", "Fanny"),
    "Isabelle": ("Isa", "Babette"),
    "Élisabeth": ("Babeth", "Lisa", "Élise"),
    "Christine": ("Christie", "Titine"),
    "Véronique": ("Véro",),
    "Valérie": ("Val",),
    "Caroline": ("Caro",),
    "Florence": ("Flo",),
    "Aurélie": ("Aurel",),
    "Sandrine": ("Sandy",),
    "Nathalie": ("Nath",),
    "Pascal": ("Pascou",),
    "Patrick": ("Pat",),
    "Marie-Christine": ("Marie-Chris",),
    "Anne-Sophie": ("Anne-So",),
    "Gabriel": ("Gaby",),
    "Raphaël": ("Raph",),
    "Benoît": ("Ben",),
    "Jérôme": ("Jérem",),
    "Charlotte": ("Charlie", "Lotte"),
    "Mathilde": ("Mathou",),
}

STREET_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rue", ("rue", "r", "R.", "RUE")),
    ("avenue", ("avenue", "av", "av.", "AVE")),
    ("boulevard", ("boulevard", "bd", "Bd", "BLD")),
    ("chemin", ("chemin", "ch.", "che")),
    ("allée", ("allée", "all.", "allee")),
    ("impasse", ("impasse", "imp", "imp.")),
    ("place", ("place", "pl.", "pl")),
    ("route", ("route", "rte")),
)
STREET_NAMES: tuple[str, ...] = (
    "Victor Hugo",
    "de la République",
    "Jean Jaurès",
    "Pasteur",
    "de la Gare",
    "des Lilas",
    "du Moulin",
    "de l'Église",
    "Gambetta",
    "du Général de Gaulle",
    "des Écoles",
    "de la Mairie",
    "Jules Ferry",
    "Voltaire",
    "Émile Zola",
    "Carnot",
    "de la Paix",
    "des Tilleuls",
    "du Stade",
    "de Verdun",
    "de la Liberté",
    "des Acacias",
    "du Château",
    "de Paris",
    "des Peupliers",
    "du 8 Mai 1945",
    "Anatole France",
    "Saint-Martin",
    "de la Fontaine",
    "des Roses",
    "Molière",
    "Pierre Curie",
    "du Port",
    "des Vignes",
    "Paul Bert",
    "Jean Moulin",
    "des Jardins",
    "du Four",
    "Nationale",
    "des Prés",
    "de Bretagne",
    "Louis Pasteur",
    "Marcel Pagnol",
    "des Marronniers",
    "du Lavoir",
    "de la Croix",
    "Georges Clemenceau",
)

# Providers with their weight among French personal addresses today; wanadoo.fr still lives on in
# old accounts (its owners moved to orange.fr, see people.py's timeline).
EMAIL_PROVIDERS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.32),
    ("orange.fr", 0.16),
    ("hotmail.fr", 0.09),
    ("free.fr", 0.09),
    ("yahoo.fr", 0.06),
    ("sfr.fr", 0.05),
    ("laposte.net", 0.06),
    ("outlook.fr", 0.05),
    ("wanadoo.fr", 0.04),
    ("icloud.com", 0.04),
    ("neuf.fr", 0.02),
    ("live.fr", 0.02),
)

TOWN_HEADS = ("Saint-", "Sainte-", "Le ", "La ", "Les ", "", "", "", "", "", "", "")
TOWN_ROOTS = (
    "Aubin",
    "Martin",
    "Germain",
    "Vallon",
    "Mesnil",
    "Bois",
    "Fontenay",
    "Villers",
    "Montigny",
    "Beaumont",
    "Chaumont",
    "Roche",
    "Neuville",
    "Plessis",
    "Champagne",
    "Rivière",
    "Marsac",
    "Lussac",
    "Ploërmel",
    "Kerlouan",
    "Villefranche",
    "Bourg",
    "Castelnau",
    "Mont",
    "Val",
    "Pont",
    "Clair",
    "Aigues",
    "Brive",
    "Cerny",
    "Loches",
    "Gourin",
)
TOWN_TAILS = (
    "",
    "",
    "",
    "",
    "-sur-Loire",
    "-sur-Mer",
    "-en-Bresse",
    "-le-Château",
    "-la-Forêt",
    "-les-Bains",
    "-d'Arc",
    "-sur-Seine",
    "-du-Lac",
    "-en-Vexin",
    "-le-Vieux",
    "-des-Prés",
)


@lru_cache(maxsize=1)
def family_names_by_rank() -> tuple[str, ...]:
    """Every family name, most frequent first: the common list, then a long tail of rarer names
    made of syllables (in a fixed, shuffled order: the tail has no alphabetical bias)."""
    common = set(COMMON_FAMILY_NAMES)
    tail = [head + middle + end for head, middle, end in product(_TAIL_HEADS, _TAIL_MIDDLES, _TAIL_ENDS)]
    tail = [name for name in dict.fromkeys(tail) if name not in common]
    random.Random(1789).shuffle(tail)
    return COMMON_FAMILY_NAMES + tuple(tail)


def zipf_weights(count: int, exponent: float) -> list[float]:
    """Weight of rank r ∝ 1 / r**exponent (exponent 0: all alike; 1: Zipf's law)."""
    return [1.0 / rank**exponent for rank in range(1, count + 1)]
