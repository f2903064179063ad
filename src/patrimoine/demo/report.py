"""Demo content of the annual report: the draft of the current year's report for the whole
territory, its narrative written around the figures the report computes (preface,
highlights, one text per chapter). The texts are the demo's own, after the structure of
Nantes' first report. Its step is listed in demo/loader.py."""

from __future__ import annotations

from patrimoine.core.clock import now
from patrimoine.demo.territory import DemoContext
from patrimoine.report import service
from patrimoine.report.service import NarrativeInput

PREFACE = """\
Il y a un an, les collectivités du territoire de Val-de-Loire adoptaient ensemble une charte
de la donnée. Elle engage la Métropole, la Ville de Ligérac, son CCAS et les communes à
**protéger** les données des habitants, à garder la **maîtrise** des données publiques, à agir
avec **sobriété** et à rendre compte en toute **transparence**.

Ce rapport tient cet engagement : chacun de ses chiffres est compté dans les registres que
nous tenons au quotidien, et l'annexe dit comment. Chacun peut le vérifier.
"""

HIGHLIGHTS = """\
- Le registre des traitements est commun aux organisations du territoire et tenu par une
  déléguée à la protection des données mutualisée.
- Trois algorithmes publics sont publiés au registre, dont la tarification solidaire des
  transports et la tarification sociale de l'eau, avec leur code source.
- Les contrats sont examinés au regard des clauses de la charte (données publiques, formats
  ouverts, hébergement en Europe, réversibilité) : ceux qui en manquent sont à renégocier.
- Le portail ouvre plus d'une centaine de jeux de données sous licence ouverte.
"""

CHAPTERS = {
    "protection": """\
Chaque traitement de données personnelles est inscrit au registre, avec sa finalité, sa base
légale et ses durées de conservation. Quand un traitement touche des données sensibles, une
analyse d'impact est menée avant sa mise en œuvre. Les demandes des habitants sont suivies
jusqu'à la réponse, dans le délai d'un mois.
""",
    "souverainete": """\
La cartographie applicative recense les applications en service, où elles sont hébergées et
sous quel droit. La stratégie d'hébergement fixe, pour chaque niveau de sensibilité, les
hébergements permis : les données les plus sensibles restent dans nos salles serveurs.
""",
    "sobriete": """\
Ne stocker que ce qui sert : le rapport compte le volume des données conservées, les jeux que
personne n'a lus depuis un an et les fichiers stockés en double, pour décider de ce qui peut
être archivé ou supprimé.
""",
    "transparence": """\
Les algorithmes qui fondent des décisions individuelles sont publiés avec leur description,
leurs règles et leur code. Le dialogue avec les détenteurs de données d'intérêt général est
engagé, en commençant par le délégataire des parcs-relais.
""",
    "ouverture": """\
Les données publiques sont ouvertes sous Licence Ouverte, sauf quelques jeux sous licence de
partage à l'identique. Le score de qualité de chaque jeu guide leur amélioration.
""",
}


def build_report(ctx: DemoContext) -> None:
    draft = service.start_draft(ctx.session, ctx.principal, now().year, None)
    service.write(ctx.session, ctx.principal, draft, NarrativeInput(
        title=f"Charte de la donnée : un an d'actions ({now().year})", preface=PREFACE,
        highlights=HIGHLIGHTS, chapters=CHAPTERS))
