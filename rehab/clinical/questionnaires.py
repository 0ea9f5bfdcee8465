"""The published wording of the questionnaires patients fill in themselves: KOOS and RMDQ.

Pure data, no Django. Keyed by the item codes rehab.clinical.outcomes scores (KOOS S1-S7, P1-P9,
A1-A17, SP1-SP5, Q1-Q4; RMDQ R1-R24), so a form built from here sends answers the scorer reads.
The texts are copied word for word, spelling and punctuation included: a validated questionnaire
is only valid in its published words, so none is reworded here for plain language; the portal's
own plain words go around it (headings of pages, hints, error messages), never into it.

KOOS: Knee injury and Osteoarthritis Outcome Score, English version LK1.0 ("KOOS KNEE SURVEY"),
Roos EM et al., J Orthop Sports Phys Ther 1998;28(2):88-96; www.koos.nu. Free to use for
non-commercial and clinical purposes, with attribution to koos.nu (KOOS_ATTRIBUTION).
Source of the wording: the LK1.0 form as reproduced by the PhenX Toolkit (protocol 250401,
"This protocol is freely available; permission not required for use") for the instructions and
the Symptoms/Stiffness part; every item, its five answers and their printed order checked against
two independent electronic versions that agree word for word (Ratchet Health's KOOS patient form,
its functional test KOOSFunctionalSpec; a React "KOOS Knee Survey" form), the section texts also
against rheumakit.com's and swiftpath.com's KOOS pages and the item list against mdapp.co's.

RMDQ: Roland-Morris Disability Questionnaire, 24-item English original, Roland MO, Morris RW,
Spine 1983;8:141-144, in the developers' current tick-the-sentence form ("English (original)"
from the developers' RMDQ site, as mirrored at dorfenfashion.com); the instructions also checked
against complete-pilates.co.uk's copy, the 24 sentences against two independent electronic
versions citing rmdq.org. Free: "no permission is required" (Roland & Fairbank, Spine 2000;25:
3115-3124). Item 9 reads "then usual" in the developers' English original and in every copy that
follows it; it is kept as printed, not corrected.

KOOS answers are listed in the printed order, which is the scoring order: the first answer scores
0 (no problem) and the last 4 (extreme problem), as the KOOS scoring manual (2012) gives it. For
S4 and S5 ("Can you straighten/bend your knee fully?") the form prints Always first: "Always" is
the answer without a problem there, so it scores 0. RMDQ: a ticked sentence scores 1 (yes).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# --- KOOS ----------------------------------------------------------------------------------------

KOOS_VERSION: Final = "KOOS English version LK1.0"
KOOS_TITLE: Final = "KOOS KNEE SURVEY"
KOOS_ATTRIBUTION: Final = "KOOS, English version LK1.0, www.koos.nu"

KOOS_INSTRUCTIONS: Final = (
    "This survey asks for your view about your knee. This information will help us keep track of "
    "how you feel about your knee and how well you are able to perform your usual activities.",
    "Answer every question by ticking the appropriate box, only one box for each question. If you "
    "are unsure about how to answer a question, please give the best answer you can.",
)

# The five answers of each kind, in printed order = score 0 ... 4.
NEVER_TO_ALWAYS: Final = ("Never", "Rarely", "Sometimes", "Often", "Always")
ALWAYS_TO_NEVER: Final = ("Always", "Often", "Sometimes", "Rarely", "Never")
NONE_TO_EXTREME: Final = ("None", "Mild", "Moderate", "Severe", "Extreme")
PAIN_HOW_OFTEN: Final = ("Never", "Monthly", "Weekly", "Daily", "Always")
AWARE_HOW_OFTEN: Final = ("Never", "Monthly", "Weekly", "Daily", "Constantly")
NOT_AT_ALL_TO_TOTALLY: Final = ("Not at all", "Mildly", "Moderately", "Severely", "Totally")
NOT_AT_ALL_TO_EXTREMELY: Final = ("Not at all", "Mildly", "Moderately", "Severely", "Extremely")

SYMPTOMS_INTRO: Final = (
    "These questions should be answered thinking of your knee symptoms during the last week."
)
STIFFNESS_INTRO: Final = (
    "The following questions concern the amount of joint stiffness you have experienced during "
    "the last week in your knee. Stiffness is a sensation of restriction or slowness in the ease "
    "with which you move your knee joint."
)
PAIN_ACTIVITIES_STEM: Final = (
    "What amount of knee pain have you experienced the last week during the following activities?"
)
ADL_INTRO: Final = (
    "The following questions concern your physical function. By this we mean your ability to move "
    "around and to look after yourself. For each of the following activities please indicate the "
    "degree of difficulty you have experienced in the last week due to your knee."
)
SPORT_REC_INTRO: Final = (
    "The following questions concern your physical function when being active on a higher level. "
    "The questions should be answered thinking of what degree of difficulty you have experienced "
    "during the last week due to your knee."
)

# item code -> (question, (answer scored 0, ..., answer scored 4)), in printed order.
KOOS_ITEM_TEXTS: Final = MappingProxyType(
    {
        # Symptoms
        "S1": ("Do you have swelling in your knee?", NEVER_TO_ALWAYS),
        "S2": (
            "Do you feel grinding, hear clicking or any other type of noise when your knee moves?",
            NEVER_TO_ALWAYS,
        ),
        "S3": ("Does your knee catch or hang up when moving?", NEVER_TO_ALWAYS),
        "S4": ("Can you straighten your knee fully?", ALWAYS_TO_NEVER),
        "S5": ("Can you bend your knee fully?", ALWAYS_TO_NEVER),
        # Stiffness (scored with Symptoms)
        "S6": (
            "How severe is your knee joint stiffness after first wakening in the morning?",
            NONE_TO_EXTREME,
        ),
        "S7": (
            "How severe is your knee stiffness after sitting, lying or resting later in the day?",
            NONE_TO_EXTREME,
        ),
        # Pain
        "P1": ("How often do you experience knee pain?", PAIN_HOW_OFTEN),
        "P2": ("Twisting/pivoting on your knee", NONE_TO_EXTREME),
        "P3": ("Straightening knee fully", NONE_TO_EXTREME),
        "P4": ("Bending knee fully", NONE_TO_EXTREME),
        "P5": ("Walking on flat surface", NONE_TO_EXTREME),
        "P6": ("Going up or down stairs", NONE_TO_EXTREME),
        "P7": ("At night while in bed", NONE_TO_EXTREME),
        "P8": ("Sitting or lying", NONE_TO_EXTREME),
        "P9": ("Standing upright", NONE_TO_EXTREME),
        # Function, daily living
        "A1": ("Descending stairs", NONE_TO_EXTREME),
        "A2": ("Ascending stairs", NONE_TO_EXTREME),
        "A3": ("Rising from sitting", NONE_TO_EXTREME),
        "A4": ("Standing", NONE_TO_EXTREME),
        "A5": ("Bending to floor/pick up an object", NONE_TO_EXTREME),
        "A6": ("Walking on flat surface", NONE_TO_EXTREME),
        "A7": ("Getting in/out of car", NONE_TO_EXTREME),
        "A8": ("Going shopping", NONE_TO_EXTREME),
        "A9": ("Putting on socks/stockings", NONE_TO_EXTREME),
        "A10": ("Rising from bed", NONE_TO_EXTREME),
        "A11": ("Taking off socks/stockings", NONE_TO_EXTREME),
        "A12": ("Lying in bed (turning over, maintaining knee position)", NONE_TO_EXTREME),
        "A13": ("Getting in/out of bath", NONE_TO_EXTREME),
        "A14": ("Sitting", NONE_TO_EXTREME),
        "A15": ("Getting on/off toilet", NONE_TO_EXTREME),
        "A16": (
            "Heavy domestic duties (moving heavy boxes, scrubbing floors, etc)",
            NONE_TO_EXTREME,
        ),
        "A17": ("Light domestic duties (cooking, dusting, etc)", NONE_TO_EXTREME),
        # Function, sports and recreational activities
        "SP1": ("Squatting", NONE_TO_EXTREME),
        "SP2": ("Running", NONE_TO_EXTREME),
        "SP3": ("Jumping", NONE_TO_EXTREME),
        "SP4": ("Twisting/pivoting on your injured knee", NONE_TO_EXTREME),
        "SP5": ("Kneeling", NONE_TO_EXTREME),
        # Quality of Life
        "Q1": ("How often are you aware of your knee problem?", AWARE_HOW_OFTEN),
        "Q2": (
            "Have you modified your life style to avoid potentially damaging activities to your "
            "knee?",
            NOT_AT_ALL_TO_TOTALLY,
        ),
        "Q3": (
            "How much are you troubled with lack of confidence in your knee?",
            NOT_AT_ALL_TO_EXTREMELY,
        ),
        "Q4": ("In general, how much difficulty do you have with your knee?", NONE_TO_EXTREME),
    }
)


@dataclass(frozen=True)
class KoosPart:
    """One printed part of the KOOS: its heading, and its questions in blocks, each block after
    the text printed just before it ("" when none). Pain has two blocks: P1 stands alone, and
    P2-P9 follow "What amount of knee pain ...", the sentence they complete."""

    heading: str
    subscale: str  # the rehab.clinical.outcomes subscale its items are scored in
    blocks: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(item for _, items in self.blocks for item in items)


def _codes(prefix: str, first: int, last: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{n}" for n in range(first, last + 1))


# In the printed order. Symptoms and Stiffness are two printed parts of one subscale.
KOOS_PARTS: Final = (
    KoosPart("Symptoms", "symptoms", ((SYMPTOMS_INTRO, _codes("S", 1, 5)),)),
    KoosPart("Stiffness", "symptoms", ((STIFFNESS_INTRO, _codes("S", 6, 7)),)),
    KoosPart("Pain", "pain", (("", ("P1",)), (PAIN_ACTIVITIES_STEM, _codes("P", 2, 9)))),
    KoosPart("Function, daily living", "adl", ((ADL_INTRO, _codes("A", 1, 17)),)),
    KoosPart(
        "Function, sports and recreational activities",
        "sport_rec",
        ((SPORT_REC_INTRO, _codes("SP", 1, 5)),),
    ),
    KoosPart("Quality of Life", "qol", (("", _codes("Q", 1, 4)),)),
)


# --- RMDQ ----------------------------------------------------------------------------------------

RMDQ_VERSION: Final = "Roland-Morris Disability Questionnaire, 24-item English original (1983)"
RMDQ_ATTRIBUTION: Final = (
    "Roland-Morris Disability Questionnaire: Roland MO, Morris RW. Spine 1983;8:141-144"
)

RMDQ_INSTRUCTIONS: Final = (
    "When your back hurts, you may find it difficult to do some of the things you normally do.",
    "This list contains sentences that people have used to describe themselves when they have "
    "back pain. When you read them, you may find that some stand out because they describe you "
    "today.",
    "As you read the list, think of yourself today. When you read a sentence that describes you "
    "today, put a tick against it. If the sentence does not describe you, then leave the space "
    "blank and go on to the next one. Remember, only tick the sentence if you are sure it "
    "describes you today.",
)

# item code -> sentence; a ticked sentence scores 1.
RMDQ_ITEM_TEXTS: Final = MappingProxyType(
    {
        "R1": "I stay at home most of the time because of my back.",
        "R2": "I change position frequently to try and get my back comfortable.",
        "R3": "I walk more slowly than usual because of my back.",
        "R4": "Because of my back I am not doing any of the jobs that I usually do around the "
        "house.",
        "R5": "Because of my back, I use a handrail to get upstairs.",
        "R6": "Because of my back, I lie down to rest more often.",
        "R7": "Because of my back, I have to hold on to something to get out of an easy chair.",
        "R8": "Because of my back, I try to get other people to do things for me.",
        "R9": "I get dressed more slowly then usual because of my back.",  # sic, as printed
        "R10": "I only stand for short periods of time because of my back.",
        "R11": "Because of my back, I try not to bend or kneel down.",
        "R12": "I find it difficult to get out of a chair because of my back.",
        "R13": "My back is painful almost all the time.",
        "R14": "I find it difficult to turn over in bed because of my back.",
        "R15": "My appetite is not very good because of my back pain.",
        "R16": "I have trouble putting on my socks (or stockings) because of the pain in my back.",
        "R17": "I only walk short distances because of my back.",
        "R18": "I sleep less well because of my back.",
        "R19": "Because of my back pain, I get dressed with help from someone else.",
        "R20": "I sit down for most of the day because of my back.",
        "R21": "I avoid heavy jobs around the house because of my back.",
        "R22": "Because of my back pain, I am more irritable and bad tempered with people than "
        "usual.",
        "R23": "Because of my back, I go upstairs more slowly than usual.",
        "R24": "I stay in bed most of the time because of my back.",
    }
)
