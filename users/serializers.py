from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from users import services
from users.models import User
from users.permissions import visible_to


class UserRecordSerializer(serializers.ModelSerializer):
    """The full representation, private fields included: what the cache stores."""

    class Meta:
        model = User
        fields = [
            "id", "username", "email", "full_name", "date_joined",
            "profile_views", "login_count", "points",
        ]  # fmt: skip
        read_only_fields = ["id", "date_joined", "profile_views", "login_count", "points"]
        extra_kwargs = {"email": {"required": True, "allow_blank": False}}


class UserSerializer(UserRecordSerializer):
    """A user as the API shows it to the requesting viewer."""

    def to_representation(self, instance: User) -> dict[str, Any]:
        return visible_to(self.context.get("request"), super().to_representation(instance))

    def validate_username(self, value: str) -> str:
        # NFKC, as Django's create_user stores it: fullwidth "alice" is "alice", on every path.
        value = User.normalize_username(value)
        if services.username_taken(value, exclude_pk=self._pk()):
            raise serializers.ValidationError("A user with that username already exists.")
        return value

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value)
        if services.email_taken(value, exclude_pk=self._pk()):
            raise serializers.ValidationError("A user with this email already exists.")
        return value

    def update(self, instance: User, validated_data: dict[str, Any]) -> User:
        try:
            return services.update_user(user=instance, changes=validated_data)
        except services.DuplicateUserError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc

    def _pk(self) -> int | None:
        return self.instance.pk if isinstance(self.instance, User) else None


class RegisterSerializer(UserSerializer):
    # The sign-in's limit too: a longer password could be registered but never used.
    password = serializers.CharField(
        write_only=True, max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]

    def to_representation(self, instance: User) -> dict[str, Any]:
        # The registrant just sent the email: echo it back even though they are not signed in.
        return {**super().to_representation(instance), "email": instance.email}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Django's validators compare the password with the user's other attributes.
        candidate = User(**{key: value for key, value in attrs.items() if key != "password"})
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs

    def create(self, validated_data: dict[str, Any]) -> User:
        try:
            return services.register_user(**validated_data)
        except services.DuplicateUserError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


class CsrfSerializer(serializers.Serializer):
    csrfToken = serializers.CharField()  # noqa: N815 - the name clients read


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )
    new_password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )

    def validate_old_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("The current password is not correct.")
        return value

    def validate_new_password(self, value: str) -> str:
        try:
            validate_password(value, user=self.context["request"].user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from exc
        return value


class SearchSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text="1-200 characters, trimmed")


TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class TagField(serializers.RegexField):
    """A slug given as a JSON string (DRF's CharField would turn 1 into "1")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TagsSerializer(serializers.Serializer):
    tags = serializers.ListField(
        child=TagField(
            TAG_PATTERN, max_length=32,
            error_messages={"invalid": "Tags are lowercase slugs: a-z, 0-9 and inner hyphens."},
        ),
        max_length=20,
        help_text="Up to 20 lowercase slugs of at most 32 characters",
    )  # fmt: skip


class PointsSerializer(serializers.Serializer):
    delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)


class LeaderboardQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
    offset = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)


class UserIdsQuerySerializer(serializers.Serializer):
    users = serializers.CharField(required=False)
    any = serializers.CharField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("users" in attrs) == ("any" in attrs):
            raise serializers.ValidationError("Give exactly one of ?users=1,2 or ?any=1,2.")
        raw = attrs.get("users") or attrs.get("any") or ""
        try:
            ids = sorted({int(part) for part in raw.split(",") if part.strip()})
        except ValueError:
            raise serializers.ValidationError("User ids are comma-separated integers.") from None
        if not ids or len(ids) > 100:
            raise serializers.ValidationError("Give between 1 and 100 user ids.")
        return {"ids": ids, "union": "any" in attrs}


class StandingSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    rank = serializers.IntegerField(required=False)
    points = serializers.IntegerField()
