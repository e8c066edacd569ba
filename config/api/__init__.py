"""Project-wide REST plumbing shared by every app's ``api`` package: errors, permissions, throttles, pagination."""
