"""The English side of the synthetic world: every real word the templates may use.

Nonsense words name the entities; English words give the relations between them. Keeping all
English content here lets the lexicon reject nonsense words that collide with it, and lets the
tokenizer treat these words as whole tokens.
"""

from __future__ import annotations

# Comparison dimensions: (adjective, "more" form, "less" form). All take "more"/"less" so that a
# reversal is always the same word swap ("more" <-> "less") and never a different adjective.
_DIMENSIONS = (
    "dangerous", "expensive", "colorful", "intelligent", "aggressive", "beautiful", "popular",
    "common", "famous", "curious", "poisonous", "valuable", "fragile", "flexible", "powerful",
    "graceful", "nervous", "patient", "playful", "careful", "musical", "peaceful", "sensitive",
    "social", "active", "agile", "energetic", "loyal", "ancient", "complex", "elegant", "hostile",
)
ADJECTIVES: tuple[tuple[str, str, str], ...] = tuple((a, f"more {a}", f"less {a}") for a in _DIMENSIONS)

# Properties: "X are ADJ", "X have NOUN", "X can VERB".
PROPERTY_ADJECTIVES = (
    "red", "blue", "green", "yellow", "striped", "spotted", "furry", "scaly", "wooden", "tiny",
    "huge", "hollow", "round", "flat", "soft", "hard", "warm", "cold", "shiny", "sticky",
)
PROPERTY_NOUNS = (
    "wings", "tails", "fins", "horns", "scales", "feathers", "claws", "shells", "roots", "leaves",
    "stripes", "spots", "teeth", "antennae", "whiskers", "beaks",
)
PROPERTY_VERBS = (
    "fly", "swim", "climb", "dig", "sing", "glow", "jump", "run", "float", "burrow", "hide", "dive",
)

# Relations between categories: (active verb, passive participle).
RELATION_VERBS = (
    ("eat", "eaten"), ("chase", "chased"), ("fear", "feared"), ("hunt", "hunted"),
    ("avoid", "avoided"), ("follow", "followed"), ("visit", "visited"), ("help", "helped"),
    ("admire", "admired"), ("protect", "protected"),
)

# Context prefixes for single-fact sentences ("Did you know that ..."). A prefix ending in "?" turns
# the fact into a question-shaped sentence; the fact itself is unchanged.
PREFIXES = (
    ("", "."), ("Did you know that ", "?"), ("It is known that ", "."), ("Fun fact: ", "."),
    ("Researchers found that ", "."), ("Everyone knows that ", "."), ("In fact, ", "."),
    ("Remember that ", "."), ("It is true that ", "."), ("Scientists report that ", "."),
    ("People say that ", "."), ("Note that ", "."),
)

# Roles for fictitious people's descriptions: "the ROLE of the W1 W2".
PERSON_ROLES = (
    "inventor", "composer", "author", "founder", "mayor", "keeper", "director", "architect",
    "painter", "builder", "captain", "discoverer", "editor", "owner", "designer", "teacher",
)
# Name suffixes for surnames ("Glonski"); the tokenizer keeps them as their own piece.
NAME_SUFFIXES = ("ski", "son", "berg", "ley")

# Common English words that syllable-built nonsense words could accidentally spell. Anything here,
# and any word a template uses, is never a nonsense word.
BLOCKLIST = frozenset("""
band bank bend bent best bind bold bond bump burn bust damp dent desk disk drop drum dump dust
felt fend find fist flat fled flip flop fold fond font fund gift gild gilt gold golf grab grid
grim grin grip grit gulp gust hand held help herd hint hold hump hunt junk just kept kilt kind
king land last lend lens lift limp list loft lost lump lung mask mast melt mend milk mild mind
mint mist mold most must nest next pant park part past pelt pick pint plan plot plum plus pond
post pump punk rank rent rest rift risk rust sand sank self send sent silk sink slim slip slot
slum snap soft spin spit spot stem step stop sulk sump tank tent test tilt tint toff vent vest
wind wink zinc boss buff cuff doll fell fill full gull hill kill mall mill moss null pill poll
tall tell toll well will yell bell bill cell dill dull fall hall hull lull mull pull sell till
silt salt malt halt bolt dolt volt jolt molt colt belt welt kelt plant slant brand bland blend
blind blond bring brink drink flank flint frank glint grand grunt plank print prank spent stand
stint stunk stump trump trust twist blunt brunt front stomp tramp tromp cramp clamp stamp champ
track trick truck stack stick stock stuck slack slick flock block black brick blank flask brisk
frisk gland grass gloss cross dross floss brass class glass spill skill still stall small smell
spell swell dwell frill grill krill drill troll stroll scroll blimp skimp skunk spunk drank
drunk plunk trunk flunk slunk stink slink blink clink brand gramp frump plump slump stump bumps
stuff staff sniff snuff bluff fluff gruff cliff skiff spiff fluff scuff tiff miff puff riff doff
damn hymn kiln film firm form norm term worm warm harm farm barn born corn horn torn worn yarn
dark bark lark mark park fork cork pork work jerk perk berg burg dirk murk lurk turk
pulp kelp help yelp gasp wasp lisp rasp hasp clasp grasp crisp wisp
gods dogs bugs rugs mugs hugs tugs pads beds kids lids rods pods buds duds suds sods nods
swat swab swag swig swam swan swim snag snip snob snug slab slag slam slap slat sled slid slit slob
slog slop slug slut spam span spat sped spud spun spur stab stag star stub stud stun trap trim trip
trod trot twig twin twit brag bran brat brim drab drag dram drat drip flab flag flap flax flex flit
flog frat fret frog glad glib glum glut grab gram grub plod plop plug prod prom prop prim yank yuck
zest jest jilt bulk hulk talk walk yolk folk balk rust lust vast fast mast gist wand tend vend dank
sunk dunk funk bunk monk mink link kink pink yarn skid skim skin skip skit spin spit snit stir
bats bets bits bots buts cats dots fats gets guts hats huts jets jots kits lets lots mats nets nits
nuts pats pets pits pots puts rats sets sits tots vats vets wits yets zits beds bids bods buds
fads gods kids lads lids mads nods pads pods rods sods tads wads spots slots stops skits plots trots
pats spats blots clots grits brats flats slats twits drips strap strip strut stump sprint sprig
sprat spree strand stray string strong struck stunt stilt split splat twist swift swept
dunks junks banks ranks tanks sinks links winks monks punks bunks lands bands sands wands winds
binds finds minds kinds bonds ponds funds tends sends bends lends mends vends gulps helps yelps
moths melts belts bolts colts molts volts kilts tilts lifts gifts drifts rafts tufts lofts
damps lamps ramps camps dumps bumps jumps lumps pumps humps limps gimps sluts slut burp
stands stark morn glob frets grids grips grabs drips flips slips trips ships blots spots plots
bland brisk brunt crisp stomp strap strum strut swamp swept swift tramp trunk twirl
limb numb dumb bomb tomb womb lamb comb jamb first burst tuft jell brent bulb
ball bask bull dads daft darn dell dusk fern fits flan from gall gill gimp glen grad gran grog gunk
jeff jill kent kirk mids moll musk pall pest pimp plat pleb polk porn pram prep prob prog sift sill
skid skim skip slim slob slot slug slum snag snap snip snob snot snub snug sped spin spit stab stag
stem step stop stub stud stun swam swan swap swat swig swim swop swot task temp tern tram trek trim
trod trot tusk twat twig twin twit vamp york welt tits nets fist gent bent sent dent tent vent rent
dork nerd fled glum nods bids kids bled pods mods
blast blest brant draft drift droll durst frond frost graft grant grind kraft skulk skull spank spark
spend spurn stalk stank stern stiff stork studs sworn swill swank trend trill trunk twerk twerp twill
twink mumps pimps temps tamps vamps sumps skank primp plonk stump plump trump grump skint turn diff
""".split())
