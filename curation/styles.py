"""The 27 ArtGAN styles in class-id order: (folder code, display name).

ArtGAN's style_class.txt names class 3 ``Art_Nouveau``; the image folders use ``Art_Nouveau_Modern``, which is
the code used here. Pure data: imported by the data migration and the training library alike.
"""

STYLES: tuple[tuple[str, str], ...] = (
    ("Abstract_Expressionism", "Abstract Expressionism"),
    ("Action_painting", "Action Painting"),
    ("Analytical_Cubism", "Analytical Cubism"),
    ("Art_Nouveau_Modern", "Art Nouveau (Modern)"),
    ("Baroque", "Baroque"),
    ("Color_Field_Painting", "Color Field Painting"),
    ("Contemporary_Realism", "Contemporary Realism"),
    ("Cubism", "Cubism"),
    ("Early_Renaissance", "Early Renaissance"),
    ("Expressionism", "Expressionism"),
    ("Fauvism", "Fauvism"),
    ("High_Renaissance", "High Renaissance"),
    ("Impressionism", "Impressionism"),
    ("Mannerism_Late_Renaissance", "Mannerism (Late Renaissance)"),
    ("Minimalism", "Minimalism"),
    ("Naive_Art_Primitivism", "Naïve Art (Primitivism)"),
    ("New_Realism", "New Realism"),
    ("Northern_Renaissance", "Northern Renaissance"),
    ("Pointillism", "Pointillism"),
    ("Pop_Art", "Pop Art"),
    ("Post_Impressionism", "Post-Impressionism"),
    ("Realism", "Realism"),
    ("Rococo", "Rococo"),
    ("Romanticism", "Romanticism"),
    ("Symbolism", "Symbolism"),
    ("Synthetic_Cubism", "Synthetic Cubism"),
    ("Ukiyo_e", "Ukiyo-e"),
)
STYLE_CODES: tuple[str, ...] = tuple(code for code, _ in STYLES)
# ArtGAN's own spelling of class 3, accepted when reading its CSV split files.
ARTGAN_ALIASES = {"Art_Nouveau": "Art_Nouveau_Modern"}
