"""Each screening reason in words, for the clinician."""

from __future__ import annotations

REASON_TEXT: dict[str, str] = {
    "saddle_anaesthesia": (
        "New saddle numbness can mean cauda equina syndrome: send the patient for emergency "
        "assessment today."
    ),
    "new_bladder_bowel_dysfunction": (
        "New bladder or bowel dysfunction can mean cauda equina syndrome: send the patient for "
        "emergency assessment today."
    ),
    "progressive_neurological_deficit": (
        "Worsening leg weakness or numbness can mean cauda equina syndrome or nerve compression: "
        "send the patient for emergency assessment today."
    ),
    "unstable_cardiac_symptoms": (
        "Unstable heart symptoms rule out exercise until a doctor has assessed the patient "
        "urgently."
    ),
    "suspected_dvt": (
        "A possible deep-vein thrombosis must be assessed urgently by a doctor before any "
        "walking exercise."
    ),
    "resting_bp_systolic": (
        "Resting systolic blood pressure is raised: in the blocking range exercise waits for a "
        "medical review; below it, sessions are supervised with a blood-pressure check each time."
    ),
    "resting_bp_diastolic": (
        "Resting diastolic blood pressure is raised: in the blocking range exercise waits for a "
        "medical review; below it, sessions are supervised with a blood-pressure check each time."
    ),
    "anticoagulated": (
        "Anticoagulants make a fall more dangerous (bleeding), so the patient must hold the "
        "handrails."
    ),
    "beta_blockers": (
        "Beta-blockers blunt the heart rate, so set intensity by perceived effort (RPE), not by "
        "heart rate."
    ),
    "fever_or_systemic_infection": (
        "A fever or systemic infection rules out exercise for now; refer to the doctor and "
        "rescreen when it has settled."
    ),
    "acute_vertigo": (
        "Acute vertigo needs a medical assessment before backward walking, which relies on balance."
    ),
    "unexplained_syncope": (
        "Unexplained fainting needs a medical assessment before any walking exercise."
    ),
    "weight_bearing_restriction": (
        "The patient is under a weight-bearing restriction; backward walking waits until the "
        "surgeon lifts it."
    ),
    "chronic_dizziness": (
        "Long-standing dizziness raises the risk of falling: supervised sessions holding the "
        "handrails only."
    ),
    "poor_vision": (
        "Poor eyesight raises the risk of falling: supervised sessions holding the handrails only."
    ),
    "peripheral_neuropathy": (
        "Reduced feeling in the feet raises the risk of falling: supervised sessions holding the "
        "handrails only."
    ),
    "osteoporosis": (
        "Osteoporosis makes a fall more likely to break a bone: supervised sessions holding the "
        "handrails only."
    ),
    "cognitive_impairment": (
        "Memory or thinking problems make safety instructions harder to follow: supervised "
        "sessions holding the handrails only."
    ),
    "falls_past_12_months": (
        "A fall in the past year means a raised fall risk: supervised, both handrails or "
        "parallel bars, slow and level."
    ),
    "feels_unsteady": (
        "Feeling unsteady means a raised fall risk: supervised, both handrails or parallel "
        "bars, slow and level."
    ),
    "worries_about_falling": (
        "Worry about falling means a raised fall risk: supervised, both handrails or parallel "
        "bars, slow and level."
    ),
    "knee_effusion": (
        "The knee is swollen: a large effusion (2+ or more) must be treated before backward "
        "walking starts; at 1+ the plan holds at its level until the swelling settles."
    ),
    "acute_injury_or_hot_joint": (
        "A new injury or a hot, inflamed joint needs a medical look before exercise."
    ),
    "locked_brace": ("The brace is locked; backward walking waits until the surgeon unlocks it."),
    "cancer_history": (
        "With back pain, a history of cancer is a red flag for spinal malignancy: refer to rule "
        "it out before exercise."
    ),
    "unexplained_weight_loss": (
        "With back pain, unexplained weight loss is a red flag for malignancy or infection: "
        "refer to rule them out before exercise."
    ),
    "iv_drug_use": (
        "With back pain, intravenous drug use is a red flag for spinal infection: refer to rule "
        "it out before exercise."
    ),
    "immunosuppression": (
        "With back pain, immunosuppression is a red flag for spinal infection: refer to rule it "
        "out before exercise."
    ),
    "severe_night_pain": (
        "Severe back pain at night or at rest is a red flag for malignancy or infection: refer "
        "to rule them out before exercise."
    ),
    "recent_major_trauma": (
        "With back pain after major trauma a fracture must be ruled out before exercise: refer."
    ),
    "minor_trauma_with_osteoporosis": (
        "With back pain after minor trauma and osteoporosis a fracture must be ruled out before "
        "exercise: refer."
    ),
    "long_term_steroids": (
        "With back pain, long-term steroid use is a red flag for fracture or infection: refer "
        "to rule them out before exercise."
    ),
    "weeks_since_surgery": (
        "Not ready yet: too few weeks have passed since surgery for backward walking."
    ),
    "full_weight_bearing": (
        "Not ready yet: the patient does not yet walk with full weight and without crutches."
    ),
    "full_knee_extension": "Not ready yet: the knee does not yet straighten fully.",
    "extensor_lag": ("Not ready yet: there is still an extensor lag on the straight-leg raise."),
    "walks_forward_normally": "Not ready yet: forward walking is not yet normal.",
    "tug_seconds": (
        "A slow Timed Up and Go means a raised fall risk: supervised, both handrails or "
        "parallel bars, slow and level."
    ),
    "berg_score": (
        "The Berg balance score shows a raised fall risk: if it is very low, work in the "
        "parallel bars only and no backward walking yet; otherwise supervised, both handrails "
        "or parallel bars, slow and level."
    ),
    "backward_walk_3m_seconds": (
        "A slow 3-metre backward walk means a raised fall risk: supervised, both handrails or "
        "parallel bars, slow and level."
    ),
}
