from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    # Admins and people not yet placed have no team.
    team = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "team", "language", "is_active"]
        read_only_fields = fields
