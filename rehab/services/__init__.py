"""Every write, one function each: keyword-only, typed, one transaction, an audit event.

A door (view, serializer, command, task) parses input and calls one of these; the clinical rule
itself lives in rehab/clinical/ and is only applied here. Refusals raise RehabError with a stable
code, a message a person can act on, and field errors where a field is at fault.

One module per domain; this package re-exports their public names, so a door writes
`services.plan_assign(...)` and a reader finds the rule in `rehab/services/plans.py`.
"""

from rehab.services.alerts import (
    OFF_PLAN_CODES,
    alert_hold_subject,
    alert_off_plan_subject,
    alert_pause_subject,
    alerts_for_decision,
    decision_alerts_record,
    digest_send,
    patient_email_ref,
    patient_page_url,
)
from rehab.services.clinics import (
    CLINIC_CONTACT_FIELDS,
    clinic_update_contact,
    clinic_update_screening_settings,
)
from rehab.services.common import (
    CONSTRAINT_FIELDS,
    as_decimal,
    check_dates,
    check_json,
    check_row_fields,
    clean_row,
    require_active_patient,
    site_url,
)
from rehab.services.dashboard import (
    dashboard_mark_stale,
    dashboard_refresh,
)
from rehab.services.erasure import (
    ErasureReason,
    clinic_set_data_requests,
    patient_erase,
)
from rehab.services.invitations import (
    invite_accept,
    invite_check,
    patient_invite,
)
from rehab.services.kept_forms import (
    KEPT_ELSEWHERE,
    KEPT_GONE,
    KEPT_USE,
    KeptFormTaken,
    kept_form_keep,
    kept_form_take,
    kept_form_token_hash,
    kept_forms_purge,
)
from rehab.services.keys import (
    API_KEY_PREFIX,
    API_KEY_TOUCH_INTERVAL,
    api_key_create,
    api_key_revoke,
    api_key_touch,
    personal_token_create,
    personal_token_revoke,
    personal_token_touch,
    personal_tokens_revoke_all,
)
from rehab.services.notes import (
    clinical_note_add,
)
from rehab.services.outcomes import (
    DRAFT_MEASURES,
    PSFS_ACTIVITY_MAX,
    outcome_record,
    questionnaire_draft_save,
    questionnaire_finish,
)
from rehab.services.patients import (
    PATIENT_EDITABLE,
    REMINDER_FIELDS,
    patient_archive,
    patient_create,
    patient_update,
)
from rehab.services.plans import (
    DEFAULT_SCHEDULES,
    MIN_OVERRIDE_REASON_LENGTH,
    lock_plan,
    move_level,
    plan_assign,
    plan_complete,
    plan_discontinue,
    plan_pause,
    plan_resume,
    plan_set_auto_apply,
    plan_set_level,
)
from rehab.services.portal_settings import (
    CALENDAR_TOKEN_BYTES,
    calendar_feed_create,
    calendar_feed_revoke,
    patient_set_reminders,
)
from rehab.services.progression import (
    decision_approve,
    decision_reject,
    evaluate_locked,
    progression_evaluate,
    progression_evaluate_many,
    session_record,
)
from rehab.services.protocols import (
    check_protocol_visible,
    protocol_copy,
    protocol_library_load,
    protocol_update,
)
from rehab.services.reminders import (
    REMINDER_BATCH_SIZE,
    REMINDER_SENDING_STALE_AFTER,
    reminder_send,
    reminders_fail_stale,
    reminders_follow_settings,
    reminders_plan,
)
from rehab.services.report_files import (
    REPORT_CONTENT_TYPE,
    ReportFile,
    ReportUnavailable,
    report_download,
)
from rehab.services.reports import (
    REPORT_DEFAULT_WEEKS,
    report_mark_failed,
    report_path,
    report_render,
    report_request,
)
from rehab.services.screening import (
    referral_act,
    screening_submit,
    screenings_invalidate,
)
from rehab.services.sessions import (
    session_add_next_morning_pain,
    session_evaluate,
    session_log,
)
from rehab.services.team import (
    clinician_create,
    clinician_send_password_link,
    clinician_set_active,
    clinician_set_admin,
)

__all__ = [
    "API_KEY_PREFIX",
    "API_KEY_TOUCH_INTERVAL",
    "CALENDAR_TOKEN_BYTES",
    "CLINIC_CONTACT_FIELDS",
    "CONSTRAINT_FIELDS",
    "DEFAULT_SCHEDULES",
    "DRAFT_MEASURES",
    "KEPT_ELSEWHERE",
    "KEPT_GONE",
    "KEPT_USE",
    "MIN_OVERRIDE_REASON_LENGTH",
    "OFF_PLAN_CODES",
    "PATIENT_EDITABLE",
    "PSFS_ACTIVITY_MAX",
    "REMINDER_BATCH_SIZE",
    "REMINDER_FIELDS",
    "REMINDER_SENDING_STALE_AFTER",
    "REPORT_CONTENT_TYPE",
    "REPORT_DEFAULT_WEEKS",
    "ErasureReason",
    "KeptFormTaken",
    "ReportFile",
    "ReportUnavailable",
    "alert_hold_subject",
    "alert_off_plan_subject",
    "alert_pause_subject",
    "alerts_for_decision",
    "api_key_create",
    "api_key_revoke",
    "api_key_touch",
    "as_decimal",
    "calendar_feed_create",
    "calendar_feed_revoke",
    "check_dates",
    "check_json",
    "check_protocol_visible",
    "check_row_fields",
    "clean_row",
    "clinic_set_data_requests",
    "clinic_update_contact",
    "clinic_update_screening_settings",
    "clinical_note_add",
    "clinician_create",
    "clinician_send_password_link",
    "clinician_set_active",
    "clinician_set_admin",
    "dashboard_mark_stale",
    "dashboard_refresh",
    "decision_alerts_record",
    "decision_approve",
    "decision_reject",
    "digest_send",
    "evaluate_locked",
    "invite_accept",
    "invite_check",
    "kept_form_keep",
    "kept_form_take",
    "kept_form_token_hash",
    "kept_forms_purge",
    "lock_plan",
    "move_level",
    "outcome_record",
    "patient_archive",
    "patient_create",
    "patient_email_ref",
    "patient_erase",
    "patient_invite",
    "patient_page_url",
    "patient_set_reminders",
    "patient_update",
    "personal_token_create",
    "personal_token_revoke",
    "personal_token_touch",
    "personal_tokens_revoke_all",
    "plan_assign",
    "plan_complete",
    "plan_discontinue",
    "plan_pause",
    "plan_resume",
    "plan_set_auto_apply",
    "plan_set_level",
    "progression_evaluate",
    "progression_evaluate_many",
    "protocol_copy",
    "protocol_library_load",
    "protocol_update",
    "questionnaire_draft_save",
    "questionnaire_finish",
    "referral_act",
    "reminder_send",
    "reminders_fail_stale",
    "reminders_follow_settings",
    "reminders_plan",
    "report_download",
    "report_mark_failed",
    "report_path",
    "report_render",
    "report_request",
    "require_active_patient",
    "screening_submit",
    "screenings_invalidate",
    "session_add_next_morning_pain",
    "session_evaluate",
    "session_log",
    "session_record",
    "site_url",
]
