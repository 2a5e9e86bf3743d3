namespace Rlm.Tools.Eval.Generation;

/// <summary>
/// Local word lists for keys, prose haystacks and question templates. Written for this harness
/// (no download, no external corpus), so every generated text is reproducible offline.
/// All entries are lower-case single words without hyphens unless the list says otherwise.
/// </summary>
public static class WordLists
{
    public static readonly string[] Adjectives =
    [
        "able", "abundant", "acidic", "adamant", "agile", "airy", "alert", "amber", "ancient", "angry",
        "anxious", "arctic", "ashen", "auburn", "awake", "bashful", "bitter", "blazing", "bland", "blissful",
        "bold", "brave", "breezy", "brief", "bright", "brisk", "bumpy", "busy", "calm", "careful",
        "cheerful", "chilly", "clever", "cloudy", "clumsy", "coastal", "cosmic", "crimson", "crisp", "curious",
        "damp", "dapper", "daring", "dazzling", "dusty", "eager", "early", "earnest", "elastic", "elegant",
        "empty", "endless", "famous", "fancy", "fearless", "feisty", "fierce", "filthy", "flat", "fluffy",
        "foggy", "fragile", "frantic", "friendly", "frosty", "gentle", "giant", "gifted", "glassy", "gloomy",
        "glossy", "golden", "graceful", "grumpy", "hasty", "hidden", "hollow", "honest", "humble", "hungry",
        "icy", "idle", "jagged", "jolly", "juicy", "keen", "kind", "lavish", "lazy", "little",
        "lively", "lonely", "loud", "lucky", "lunar", "magnetic", "marble", "mellow", "merry", "mighty",
        "misty", "modest", "muddy", "narrow", "nervous", "nimble", "noisy", "obedient", "odd", "orange",
        "patient", "peaceful", "plucky", "polite", "proud", "puzzled", "quiet", "quick", "quirky", "rapid",
        "rare", "restless", "rocky", "rosy", "rough", "royal", "rustic", "sandy", "savage", "scarlet",
        "shaggy", "shiny", "silent", "silver", "sleepy", "slender", "sly", "smooth", "snowy", "solar",
        "sour", "sparkling", "spicy", "steady", "stormy", "sturdy", "sunny", "swift", "tame", "tender",
        "tidy", "tiny", "tranquil", "tropical", "twinkling", "vast", "velvet", "vivid", "wandering", "wary",
        "wealthy", "windy", "wise", "witty", "wooden", "young", "zany", "zealous",
    ];

    public static readonly string[] Nouns =
    [
        "anchor", "apple", "arch", "arrow", "badge", "banner", "barn", "basket", "beacon", "bell",
        "bicycle", "blanket", "boat", "bottle", "bracelet", "branch", "bridge", "bucket", "button", "cabin",
        "camera", "candle", "canyon", "carpet", "castle", "cellar", "chair", "chimney", "clock", "cloud",
        "compass", "cookie", "cottage", "crown", "crystal", "curtain", "cushion", "desk", "diamond", "dragon",
        "drum", "eagle", "engine", "falcon", "feather", "fence", "fiddle", "forest", "fountain", "garden",
        "gate", "glacier", "globe", "harbor", "harp", "helmet", "hill", "island", "jacket", "jungle",
        "kettle", "kite", "ladder", "lagoon", "lamp", "lantern", "leaf", "lemon", "lighthouse", "lizard",
        "magnet", "maple", "meadow", "mirror", "mountain", "needle", "nest", "notebook", "oasis", "ocean",
        "orchard", "otter", "owl", "paddle", "palace", "panther", "parrot", "pebble", "pencil", "piano",
        "pillow", "planet", "pocket", "pond", "puzzle", "quilt", "rabbit", "raft", "river", "robot",
        "rocket", "saddle", "sail", "scarf", "shell", "shovel", "sparrow", "spoon", "squirrel", "stable",
        "statue", "stone", "storm", "stream", "sunflower", "swan", "sword", "table", "teapot", "temple",
        "thistle", "thunder", "tiger", "tower", "trumpet", "tulip", "tunnel", "turtle", "umbrella", "valley",
        "vase", "violin", "volcano", "wagon", "wallet", "walrus", "whistle", "willow", "window", "wolf",
    ];

    /// <summary>Verbs in their base form.</summary>
    public static readonly string[] Verbs =
    [
        "admire", "build", "carry", "chase", "clean", "collect", "cover", "deliver", "discover", "draw",
        "explore", "fetch", "fix", "follow", "gather", "guard", "hide", "inspect", "juggle", "launch",
        "lift", "measure", "mend", "move", "observe", "open", "paint", "polish", "protect", "pull",
        "push", "repair", "rescue", "sell", "share", "sketch", "sort", "study", "test", "trade",
        "visit", "wash", "watch", "weigh", "wrap",
    ];

    /// <summary>Verbs in the third person singular, paired index for index with <see cref="Verbs"/>.</summary>
    public static readonly string[] VerbsThirdPerson =
    [
        "admires", "builds", "carries", "chases", "cleans", "collects", "covers", "delivers", "discovers", "draws",
        "explores", "fetches", "fixes", "follows", "gathers", "guards", "hides", "inspects", "juggles", "launches",
        "lifts", "measures", "mends", "moves", "observes", "opens", "paints", "polishes", "protects", "pulls",
        "pushes", "repairs", "rescues", "sells", "shares", "sketches", "sorts", "studies", "tests", "trades",
        "visits", "washes", "watches", "weighs", "wraps",
    ];

    public static readonly string[] FirstNames =
    [
        "Ada", "Alvaro", "Amara", "Anders", "Aurelia", "Bashir", "Beatrix", "Bruno", "Camille", "Cyrus",
        "Dagny", "Dmitri", "Elif", "Emeka", "Esther", "Farid", "Freya", "Gideon", "Greta", "Hamish",
        "Hana", "Idris", "Ingrid", "Ivo", "Jasper", "Jovana", "Kaito", "Keziah", "Lars", "Leila",
        "Lorenzo", "Maeve", "Matteo", "Mireille", "Nadia", "Niko", "Odile", "Oskar", "Priya", "Quentin",
        "Rafaela", "Rohan", "Saoirse", "Soren", "Tamsin", "Tariq", "Ulla", "Vikram", "Wilhelmina", "Yusuf",
    ];

    public static readonly string[] Surnames =
    [
        "Abernathy", "Bellweather", "Castellano", "Dunmore", "Eastwick", "Falkenrath", "Galloway", "Hargreave", "Ishikawa", "Jorgensen",
        "Kowalczyk", "Lindqvist", "Marchetti", "Novakova", "Oyelaran", "Pemberton", "Quigley", "Rasmussen", "Sandoval", "Thistlewood",
        "Underhill", "Valdivia", "Whitcombe", "Xenakis", "Yardley", "Zamora", "Ashdown", "Brightwater", "Coldridge", "Delacroix",
    ];

    /// <summary>Place names (may contain spaces).</summary>
    public static readonly string[] Places =
    [
        "Lisbon", "Nairobi", "Oslo", "Quito", "Hanoi", "Tbilisi", "Accra", "Reykjavik", "Montevideo", "Kraków",
        "Valparaíso", "Tasmania", "Patagonia", "Sardinia", "Zanzibar", "Bavaria", "Andalusia", "Lapland", "Kyoto", "Marrakesh",
        "Cartagena", "Tallinn", "Ljubljana", "Bergen", "Cusco", "Perth", "Winnipeg", "Halifax", "Dakar", "Muscat",
        "Porto", "Seville", "Salzburg", "Bruges", "Galway", "Tromsø", "Riga", "Vilnius", "Mendoza", "Arequipa",
        "Adelaide", "Hobart", "Nagano", "Sapporo", "Busan", "Chiang Mai", "Luang Prabang", "Kandy", "Goa", "Zermatt",
    ];

    public static readonly string[] Animals =
    [
        "heron", "lynx", "tapir", "ibex", "marmot", "pangolin", "okapi", "narwhal", "axolotl", "quokka",
        "capybara", "gecko", "toucan", "bison", "wombat", "meerkat", "ocelot", "puffin", "salamander", "yak",
    ];

    public static readonly string[] Instruments =
    [
        "cello", "oboe", "bassoon", "harpsichord", "mandolin", "accordion", "sitar", "banjo", "clarinet", "marimba",
    ];

    public static readonly string[] Materials =
    [
        "copper", "granite", "linen", "cedar", "porcelain", "bronze", "slate", "wool", "silk", "obsidian",
    ];

    public static readonly string[] Professions =
    [
        "mayor", "governor", "librarian", "astronomer", "harbor master", "chief engineer", "lighthouse keeper", "head chef", "archivist", "cartographer",
    ];
}
