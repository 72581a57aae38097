from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.request import Request

from users import services
from users.models import User
from users.permissions import is_self_or_staff

PRIVATE_FIELDS = ("email",)


def present_user(record: dict[str, Any], request: Request | None) -> dict[str, Any]:
    """What ``request``'s viewer may see of a user record: private fields for self and staff.

    The one place this rule lives: it applies to fresh serializations and cached records.
    """
    if is_self_or_staff(request, record.get("id")):
        return record
    return {key: value for key, value in record.items() if key not in PRIVATE_FIELDS}


class UserRecordSerializer(serializers.ModelSerializer):
    """The full representation, private fields included: what the cache stores."""

    class Meta:
        model = User
        fields = ["id", "username", "email", "full_name", "date_joined"]
        read_only_fields = ["id", "date_joined"]
        extra_kwargs = {"email": {"required": True, "allow_blank": False}}


class UserSerializer(UserRecordSerializer):
    """A user as the API shows it to the requesting viewer."""

    def to_representation(self, instance: User) -> dict[str, Any]:
        return present_user(super().to_representation(instance), self.context.get("request"))

    def validate_username(self, value: str) -> str:
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
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, style={"input_type": "password"}
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
