"""``manage.py create_api_token USER [--reset]``: print the user's API token, creating it if needed."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.api.tokens import api_token_issue


class Command(BaseCommand):
    help = "Print USER's API token (created if missing; --reset replaces it and the old one stops working)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reset", action="store_true", help="Replace an existing token.")

    def handle(self, *args, username: str, reset: bool, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist as error:
            raise CommandError(f"No user named {username!r}.") from error
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate them before issuing a token.")
        token, created = api_token_issue(user=user, reset=reset)
        self.stderr.write(f"{'New' if created else 'Existing'} token for {username}:")
        self.stdout.write(token.key)
