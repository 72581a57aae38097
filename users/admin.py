from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from redis import RedisError

from sessions import services as sessions
from users import counters
from users.models import CounterFlush, User, UserTag


class UserCreationWithEmailForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email", "full_name")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class UserTagInline(admin.TabularInline):
    model = UserTag
    extra = 1
    # Saved here, the Redis index lags until `manage.py rebuild_indexes` (the API updates it).


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [UserTagInline]
    form = UserEditForm
    add_form = UserCreationWithEmailForm
    list_display = (
        "username", "email", "full_name", "points", "profile_views", "login_count",
        "is_staff", "is_active", "date_joined",
    )  # fmt: skip
    list_filter = ("is_staff", "is_superuser", "is_active", "date_joined", "last_login")
    search_fields = ("username", "email", "full_name")
    ordering = ("-date_joined",)
    date_hierarchy = "date_joined"
    readonly_fields = (
        "date_joined", "last_login", "updated_at", "version", "live_sessions",
        "profile_views", "login_count", "pending_counts", "points",
    )  # fmt: skip
    actions = ["revoke_sessions"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("full_name", "email", "first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Timestamps", {"fields": ("date_joined", "last_login", "updated_at", "version")}),
        (
            "Activity",
            {
                "fields": ("profile_views", "login_count", "pending_counts", "points"),
                "description": "Views and logins are counted in Redis and written here in "
                "batches every COUNTER_FLUSH_SECONDS by the worker: the stored numbers lag "
                "the API, which shows stored + pending.",
            },
        ),
        ("Sessions", {"fields": ("live_sessions",)}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "full_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    @admin.display(description="Live sessions")
    def live_sessions(self, user: User) -> str:
        if user.pk is None:
            return "-"
        try:
            live = sessions.list_sessions(user_id=str(user.pk), current_key=None)
        except RedisError:
            return "unknown: Redis is unavailable"
        return f"{len(live)} (use the action 'Revoke all sessions' on the user list to end them)"

    @admin.display(description="Waiting in Redis")
    def pending_counts(self, user: User) -> str:
        if user.pk is None:
            return "-"
        try:
            waiting = counters.pending(user.pk)
        except RedisError:
            return "unknown: Redis is unavailable"
        return (
            f"{waiting.views} views, {waiting.logins} logins (the API shows "
            f"{user.profile_views + waiting.views} and {user.login_count + waiting.logins})"
        )

    @admin.action(description="Revoke all sessions of the selected users")
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        own = request.session.session_key
        ended = 0
        try:
            for user in queryset:
                ended += sessions.revoke_all(user_id=str(user.pk), except_key=own)
        except RedisError as exc:
            self.message_user(
                request, f"Redis is unavailable ({exc}); revoked {ended} session(s) before it "
                "failed. Retry shortly.", messages.ERROR,
            )  # fmt: skip
            return
        self.message_user(request, f"Revoked {ended} session(s).", messages.SUCCESS)


@admin.register(CounterFlush)
class CounterFlushAdmin(admin.ModelAdmin):
    list_display = ("claim_id", "applied_at", "users", "increments", "fence")
    readonly_fields = ("claim_id", "applied_at", "users", "increments", "fence")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
