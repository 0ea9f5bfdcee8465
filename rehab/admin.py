"""Django admin for support staff. Clinical records (screenings, plans, logs, decisions, scores,
audit) are read-only here: they are made by the services, which apply the clinical rules and
write the audit trail; an edit in the admin would bypass both.

Reading patient data here is audited like anywhere else: a change list records one event per
patient it shows (one bulk insert, whatever the page size), an object's page one event."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from rehab import services
from rehab.audit import (
    AuditAction,
    PatientRef,
    audit_reads_by_ref,
    audit_record,
    events_patient_refs,
)
from rehab.models import (
    ApiKey,
    AuditChain,
    AuditEvent,
    CalendarFeed,
    Clinic,
    Clinician,
    OutcomeScore,
    Patient,
    PersonalToken,
    Plan,
    PortalInvite,
    ProgressionDecision,
    Protocol,
    ProtocolLevel,
    Reminder,
    Screening,
    SessionLog,
    User,
)


class AuditedReadsAdmin(admin.ModelAdmin):
    """A model whose rows are a patient's data: its change list and its object pages (change,
    history, delete confirmation: all go through get_object) record who saw which patient."""

    read_action = ""
    read_always = False

    def patient_refs(self, objs) -> list[PatientRef]:
        """(patient id, clinic id) of each row shown; list_select_related loads what it reads."""
        return [(obj.patient_id, obj.patient.clinic_id) for obj in objs]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if not self.read_action:
            return changelist
        # Evaluating the page here fills its cache: the template reads the same rows, no query.
        shown = list(changelist.result_list)
        audit_reads_by_ref(
            actor=request.user,
            action=self.read_action,
            refs=self.patient_refs(shown),
            detail={"via": "admin"},
            always=self.read_always,
        )
        return changelist

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "GET" and self.read_action:
            audit_reads_by_ref(
                actor=request.user,
                action=self.read_action,
                refs=self.patient_refs([obj]),
                detail={"via": "admin"},
                obj=obj,
                always=self.read_always,
            )
        return obj


class ReadOnlyAdmin(AuditedReadsAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class RehabUserAdmin(AuditedReadsAdmin, UserAdmin):
    """A patient's account shows their name and e-mail: a read of that patient."""

    read_action = AuditAction.PATIENT_READ

    def patient_refs(self, objs) -> list[PatientRef]:
        return list(
            Patient.objects.filter(user__in=[obj.pk for obj in objs]).values_list("pk", "clinic_id")
        )

    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "last_login",
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # As in the dashboard's deactivation: tokens must not come back on reactivation. (A new
        # password set here ends them by itself: see PersonalToken.password_stamp.)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.personal_tokens_revoke_all(user=obj)


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "timezone", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Clinician)
class ClinicianAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "clinic", "title", "is_clinic_admin")
    list_filter = ("clinic", "is_clinic_admin")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    list_select_related = ("user", "clinic")
    autocomplete_fields = ("user",)


@admin.register(Patient)
class PatientAdmin(AuditedReadsAdmin):
    read_action = AuditAction.PATIENT_READ

    list_display = (
        "__str__",
        "clinic",
        "condition",
        "external_id",
        "timezone",
        "reminder_channel",
        "archived_at",
        "updated_at",
    )
    list_filter = (
        "clinic",
        "condition",
        "reminder_channel",
        ("archived_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("first_name", "last_name", "email", "external_id")
    list_select_related = ("clinic",)
    readonly_fields = ("archived_at", "created_by", "created_at", "updated_at")
    autocomplete_fields = ("user",)

    def save_model(self, request, obj, form, change):
        if change:
            # Only what the form changed: a full save would write back the dashboard's stored
            # need as it was read, over a newer "recompute" mark made meanwhile by a service.
            obj.save(update_fields=[*form.changed_data, "updated_at"])
        else:
            super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=AuditAction.PATIENT_UPDATE if change else AuditAction.PATIENT_CREATE,
            obj=obj,
            patient=obj,
            detail={"fields": sorted(form.changed_data), "via": "admin"},
        )

    def patient_refs(self, objs) -> list[PatientRef]:
        return [(obj.pk, obj.clinic_id) for obj in objs]


class ProtocolLevelInline(admin.TabularInline):
    model = ProtocolLevel
    extra = 0
    ordering = ("position",)


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ("name", "condition", "clinic", "version", "level_count", "updated_at")
    list_filter = ("condition", ("clinic", admin.EmptyFieldListFilter), "clinic")
    search_fields = ("name", "code", "summary")
    inlines = [ProtocolLevelInline]
    actions = ["reload_library"]

    @admin.display(description="levels")
    def level_count(self, obj):
        return obj.levels.count()

    def has_change_permission(self, request, obj=None):
        # Built-ins are read-only everywhere, here too.
        if obj is not None and obj.is_builtin:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Reload the built-in protocol library")
    def reload_library(self, request, queryset):
        services.protocol_library_load()
        self.message_user(request, "The built-in library is up to date.")


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    read_action = AuditAction.SCREENING_READ

    def patient_refs(self, objs) -> list[PatientRef]:
        return [(obj.patient_id, obj.clinic_id) for obj in objs]

    list_display = (
        "patient",
        "condition",
        "status",
        "referral",
        "screened_on",
        "valid_until",
        "invalidated_at",
    )
    list_filter = ("status", "referral", "condition", "clinic")
    search_fields = ("patient__first_name", "patient__last_name", "patient__external_id")
    list_select_related = ("patient",)
    date_hierarchy = "screened_on"


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    read_action = AuditAction.PLAN_READ

    def patient_refs(self, objs) -> list[PatientRef]:
        return [(obj.patient_id, obj.clinic_id) for obj in objs]

    list_display = (
        "patient",
        "protocol_name",
        "status",
        "current_level_display",
        "start_date",
        "auto_apply",
        "overridden",
    )
    list_filter = ("status", "condition", "auto_apply", "clinic")
    search_fields = (
        "patient__first_name",
        "patient__last_name",
        "protocol_name",
        "override_reason",
    )
    list_select_related = ("patient",)

    @admin.display(description="level")
    def current_level_display(self, obj):
        return f"{obj.current_level + 1} of {len(obj.levels)}"

    @admin.display(boolean=True, description="override")
    def overridden(self, obj):
        return bool(obj.override_reason)


@admin.register(SessionLog)
class SessionLogAdmin(ReadOnlyAdmin):
    read_action = AuditAction.SESSION_READ

    list_display = (
        "patient",
        "date",
        "level_index",
        "minutes_done",
        "pain_worst",
        "pain_next_morning",
        "effort",
        "fall",
        "near_fall",
    )
    list_filter = ("fall", "near_fall", "dizziness", "chest_pain", "swelling", "setting")
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient",)
    date_hierarchy = "date"


@admin.register(ProgressionDecision)
class ProgressionDecisionAdmin(ReadOnlyAdmin):
    read_action = AuditAction.DECISION_READ

    def patient_refs(self, objs) -> list[PatientRef]:
        return [(obj.plan.patient_id, obj.plan.clinic_id) for obj in objs]

    list_display = (
        "plan",
        "evaluated_on",
        "outcome",
        "status",
        "from_level",
        "to_level",
        "alert",
        "trigger",
    )
    list_filter = ("outcome", "status", "alert", "trigger")
    search_fields = ("plan__patient__first_name", "plan__patient__last_name")
    list_select_related = ("plan__patient",)
    date_hierarchy = "evaluated_on"


@admin.register(OutcomeScore)
class OutcomeScoreAdmin(ReadOnlyAdmin):
    read_action = AuditAction.OUTCOME_READ

    list_display = ("patient", "measure", "taken_on", "scores")
    list_filter = ("measure",)
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    read_action = AuditAction.AUDIT_READ
    read_always = True  # a page of events without a patient is still a read of the trail

    def patient_refs(self, objs) -> list[PatientRef]:
        return events_patient_refs(objs)

    list_display = (
        "at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "patient_ref",
        "clinic",
        "ip_address",
        "chain_seq",
    )
    list_filter = ("action", "object_type", "clinic")
    search_fields = ("actor_label", "action", "object_id")
    date_hierarchy = "at"


@admin.register(AuditChain)
class AuditChainAdmin(ReadOnlyAdmin):
    """Each clinic's audit hash chain: its head and, after a prune, its anchor. Written only by
    the sealer and audit_prune; `manage.py audit_verify` checks the events against it."""

    list_display = ("clinic_ref", "head_seq", "head_hash", "sealed_at", "anchor_seq", "pruned_at")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with `manage.py create_api_key` (the key is shown once); here they are
    listed and revoked."""

    list_display = (
        "name",
        "clinic",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("clinic", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    readonly_fields = (
        "clinic",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key, actor=request.user)
        self.message_user(request, "Revoked.")


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    read_action = AuditAction.REMINDER_READ

    list_display = ("patient", "due_date", "kind", "channel", "status", "scheduled_for", "sent_at")
    list_filter = ("status", "kind", "channel")
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient",)
    date_hierarchy = "due_date"


@admin.register(PortalInvite)
class PortalInviteAdmin(ReadOnlyAdmin):
    """Invitations are sent from the dashboard; here support staff can see whether one was
    used, replaced or let expire. The token's hash is never shown."""

    read_action = AuditAction.INVITE_READ

    list_display = ("patient", "sent_to", "created_at", "expires_at", "used_at", "revoked_at")
    search_fields = ("patient__first_name", "patient__last_name", "sent_to")
    list_select_related = ("patient",)
    exclude = ("token_hash",)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    """Patients make and stop their calendar links in the portal; the hash is never shown."""

    read_action = AuditAction.CALENDAR_READ

    list_display = ("patient", "created_at", "revoked_at")
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient",)
    exclude = ("token_hash",)


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    """People's API tokens (made through POST /api/v1/auth/token/): listed and revoked, never
    shown (only their hashes are stored)."""

    list_display = ("user", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "created_at", "last_used_at", "expires_at", "revoked_at")
    exclude = ("key_hash", "password_stamp")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            services.personal_token_revoke(token=token)
