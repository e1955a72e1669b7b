"""The environment every test process shares."""

TEST_SALT = "test-salt-not-secret"
