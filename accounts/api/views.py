from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.base import ScopedReadOnlyViewSet
from accounts.api.serializers import UserSerializer
from accounts.selectors import users_visible_to


class UserViewSet(ScopedReadOnlyViewSet):
    """People the caller may see: admins everyone, leaders their teams, others themselves."""

    serializer_class = UserSerializer
    search_fields = ["full_name", "email"]
    ordering_fields = ["full_name", "email"]
    filterset_fields = ["role", "team", "is_active"]

    def scoped_queryset(self, user):
        return users_visible_to(user).order_by("full_name", "pk")

    @action(detail=False)
    def me(self, request):
        return Response(self.get_serializer(request.user).data)
