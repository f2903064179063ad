"""Word lists the name detector relies on, written for Patrimoine (not copied from a data file).

First names and surnames frequent in France across generations, in folded form (lower case,
no accents; see core.text.fold). A value is evidence of a person's name when it is shaped like
one and holds one of these; the lists need not be complete, the column name carries the rest.
"""

from __future__ import annotations

_FIRST_NAMES = """
adam adele adrien agathe agnes aicha alain alban albert alexandra alexandre alexia alexis
alfred alice aline alix amandine amaury ambre amelie anais anatole andre andree angele angelique
anne annick annie anthony antoine antoinette apolline arielle armand arnaud arthur astrid aude
audrey augustin aurelie aurelien axel aymeric baptiste barbara basile bastien beatrice benedicte
benjamin benoit bernadette bernard bertrand blanche brigitte bruno camille capucine carla carole
caroline catherine cecile celine chantal charles charlotte chloe christelle christian christiane
christine christophe claire clara claude claudine clemence clement clotilde colette coralie
corinne cyril cyrille damien daniel daniele danielle david delphine denis denise didier diane
dominique dorothee edith edmond edouard eleonore elias elisabeth elise eliane elodie eloise
emeline emile emilie emma emmanuel emmanuelle enzo eric erwan estelle ethan etienne eugene eugenie
eva evelyne fabien fabienne fabrice fanny felix fernand fernande florence florent florian
francine francis franck francois francoise frederic frederique gabriel gabrielle gael gaelle
gaetan gaston gautier genevieve georges georgette gerald gerard germain germaine ghislaine
gilbert gilles ginette gisele guillaume guy guylaine gwenaelle hadrien helene henri henriette
herve hugo hugues ines irene isabelle jacqueline jacques jade jean jeanne jeannine jeremy jerome
joel joelle johanna jonathan jordan josette joseph josephine josiane julie julien juliette
justine karine kevin lea lea leane leila leo leon leonie liam lina lionel lisa loic lola lorraine
louis louise luc luca lucas lucie lucien lucienne lucille ludovic lydie madeleine maelle mael
manon marc marcel marcelle margaux margot marguerite maria marianne marie marine marion marius
marthe martin martine mathieu mathilde matheo mathis matthieu maud maurice maxence maxime mehdi
melanie melissa michel micheline michele mickael mireille monique morgane muriel myriam nadia
nadine nathalie nathan nicolas nicole noah noel noemie norbert oceane odette odile olivia olivier
pascal pascale patrice patricia patrick paul paule pauline perrine philippe pierre pierrette
quentin rachel raphael raphaelle raymond raymonde regis regine remi renaud rene renee richard
robert roger roland romain romane rose rosalie roseline sabine sabrina sacha salome samuel sandra
sandrine sarah sebastien serge severine simon simone solange sophie stephane stephanie suzanne
sylvain sylvie tanguy theo theodore therese thibault thibaut thierry thomas timothee tristan
valentin valentine valerie vanessa veronique victor victoria vincent virginie vivien viviane
xavier yann yannick yasmine yves yvette yvonne zoe jules gabin sacha timeo eden nael ayoub
mohamed ahmed karim rachid farid nordine sofiane yanis ilyes samira fatima khadija malika nora
djamila zohra amine bilal hamza walid anissa sonia jessica laetitia cindy ludivine aurore
albane blandine segolene ophelie oriane perle roxane albertine adeline agnes alphonse ambroise
anselme aristide auguste barthelemy benoite cesar clarisse constance cyprien dorian eliott
gaspard gregoire gregory guillemette helena hortense ignace irma isidore jacky joachim jocelyne
josiane judith laure laurence laurent leonard lilian lise lou lucette marceline mariette
mathias maurane melodie nina noelle octave pascaline philomene prosper raoul rodolphe rolande
sebastienne stanislas sylvette thais ursule valery victorine yolande zelie jean-pierre
jean-claude jean-paul jean-luc jean-marc jean-marie jean-francois jean-michel jean-louis
jean-jacques jean-baptiste marie-claude marie-christine marie-france marie-therese anne-marie
anne-sophie marie-louise marie-anne pierre-yves paul-henri jean-yves marie-helene
""".split()

_SURNAMES = """
martin bernard thomas petit robert richard durand dubois moreau laurent simon michel lefebvre
leroy roux david bertrand morel fournier girard bonnet dupont lambert fontaine rousseau vincent
muller lefevre faure andre mercier blanc guerin boyer garnier chevalier francois legrand gauthier
garcia perrin robin clement morin nicolas henry roussel mathieu gautier masson marchand duval
denis dumont marie lemaire noel meyer dufour meunier brun blanchard giraud joly riviere lucas
brunet gaillard barbier arnaud martinez gerard roche renard schmitt roy leroux colin vidal caron
picard roger fabre aubert lemoine renaud dumas lacroix olivier philippe bourgeois pierre benoit
rey leclerc payet rolland leclercq guillaume lecomte lopez jean dupuy guillot hubert berger
carpentier sanchez dupuis moulin louis deschamps huet vasseur perez boucher fleury royer klein
jacquet adam paris poirier marty aubry guyot carre charles renault charpentier menard maillard
baron bertin bailly herve schneider fernandez le-gall collet leger bouvier julien prevost millet
perrot daniel le-roux cousin germain breton besson langlois remy le-goff pelletier leveque
perrier leblanc barre lebrun marchal weber mallet hamon boulanger jacob monnier michaud rodriguez
guichard gillet etienne grondin poulain tessier chevallier collin chauvin da-silva bouchet gay
lemaitre benard marechal humbert reynaud antoine hoarau perret barthelemy cordier pichon lejeune
gilbert lamy delaunay pasquier carlier laporte leroux
""".split()

FIRST_NAMES: frozenset[str] = frozenset(_FIRST_NAMES)
SURNAMES: frozenset[str] = frozenset(s.replace("-", " ") for s in _SURNAMES)

# Words that make a capitalised value a place, a facility or an organisation, not a person.
NOT_A_PERSON: frozenset[str] = frozenset("""
rue avenue boulevard bd chemin allee impasse place route quai cours square passage voie sentier
lotissement residence hameau cite clos promenade esplanade faubourg chaussee montee villa parvis
ecole college lycee universite faculte creche gymnase stade piscine mairie hotel ville salle
centre maison parc jardin square bibliotheque mediatheque musee theatre cinema eglise chapelle
cathedrale hopital clinique ehpad foyer gare aeroport port marche halle cimetiere poste caserne
commissariat gendarmerie prefecture tribunal espace complexe base camping plage pont tour chateau
abbaye association club societe entreprise sarl sas sa eurl groupe conseil agence office service
direction departement region commune communaute metropole syndicat institut fondation
saint sainte st ste sur sous les la le lez en aux du des de d
nord sud est ouest haut bas grand grande petit petite vieux neuf
""".split()) - frozenset({"le", "la", "de", "du", "des", "d", "grand", "petit"})

# Particles that may sit inside a person's name ("Charles de Gaulle", "Le Gall").
PARTICLES: frozenset[str] = frozenset(
    "de du des le la d' d van von da dos di del della ben el al ait mc mac".split()
)

CIVILITIES: frozenset[str] = frozenset(
    "m m. mr mr. mme mme. mlle mlle. monsieur madame mademoiselle dr dr. me me. pr pr.".split()
)
