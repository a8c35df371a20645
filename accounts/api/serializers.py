from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    team = serializers.StringRelatedField()

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "team", "language", "is_active"]
        read_only_fields = fields
