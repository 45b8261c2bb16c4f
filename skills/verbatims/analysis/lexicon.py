"""Small French word lists: function words, and judgement words that name no aspect."""

from __future__ import annotations

STOPWORDS = frozenset("""
a à au aux avec ce ces cet cette ça ca c d de des du elle elles en et eux il ils je j l la le
les leur leurs lui m ma mais me même mes moi mon n ne ni nos notre nous on ou où par pas pour
qu que qui quoi s sa se ses si son sur t ta te tes toi ton tu un une vos votre vous y est sont
suis es était été être avoir ai as a avons avez ont eu fait faire fais plus tout tous toute
toutes alors aussi car donc comme quand sans sous chez depuis encore jamais toujours déjà ici là
celle celui ceux dont non oui trop peu moins après avant vraiment autre autres quelqu quelque
rien chose choses très bien cela ceci puis entre lors dès vers chaque aucun aucune tant leur
dit dire va vais vont peut peux faut fallu y'a ya pr tjrs bcp c'est n'est qu'il j'ai l'on
d'un d'une qu'on s'il m'a m'ont on m'a
""".split())

JUDGEMENT = frozenset("""
bon bonne bons bonnes mauvais mauvaise mauvaises super top parfait parfaite parfaits nul nulle
nuls excellent excellente génial géniale merci bravo satisfait satisfaite satisfaits déçu déçue
déçus décevant décevante inadmissible inacceptable lamentable honteux honteuse scandaleux
scandaleuse catastrophique pire mieux meilleur meilleure grand grande vrai vraie vraiment
terrible horrible agréable désagréable content contente ravi ravie heureux heureuse énervé
marre galère honte génial incroyable normal anormal simple simplement facile difficile
rapide rapidement lent lente long longue longs longues énorme total totale tellement
""".split())


def is_function_word(word: str) -> bool:
    """A word that never names an aspect on its own."""
    return word in STOPWORDS or len(word) < 3 or word.isdigit()
