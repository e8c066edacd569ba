"""factory_boy factories shared by the suites."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """UserFactory(roles=["reviewer"]) puts the user in those groups (created by the roles migration)."""
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))
