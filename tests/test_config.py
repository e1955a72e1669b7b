"""Settings: layering, validation that names the variable, database URLs, the alias salt file."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from finlib.config import SALT_FILE_NAME, Settings, load_settings, resolve_alias_salt, resolve_database_url
from finlib.errors import ConfigError


def test_defaults_use_sqlite_and_the_local_store_inside_the_data_home(settings: Settings) -> None:
    assert settings.database_url == f"sqlite:///{settings.home / 'finlib.db'}"
    assert settings.database_backend == "sqlite"
    assert settings.storage_backend == "local"
    assert settings.store_dir == settings.home / "store"
    assert settings.cache_dir == settings.home / "cache"
    assert settings.alias_length == 8
    assert settings.moving_avg_window == 3
    assert settings.s3_upload_prefix == "uploads/"
    assert not settings.llm_enabled


def test_the_environment_overrides_the_dotenv_file_and_keyword_overrides_win(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("ALIAS_LENGTH=10\nMOVING_AVG_WINDOW=4\nLITE_LLM_MODEL=from-dotenv\n")
    environ = {"FINLIB_HOME": str(tmp_path / "home"), "ALIAS_SALT": "s", "MOVING_AVG_WINDOW": "5"}

    settings = load_settings(environ, dotenv_path=dotenv, llm_model="from-override")

    assert settings.alias_length == 10
    assert settings.moving_avg_window == 5
    assert settings.llm_model == "from-override"


def test_a_missing_dotenv_file_is_not_an_error(tmp_path: Path) -> None:
    environ = {"FINLIB_HOME": str(tmp_path), "ALIAS_SALT": "s"}
    assert load_settings(environ, dotenv_path=tmp_path / "absent.env").alias_length == 8


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ALIAS_LENGTH", "eight"),
        ("ALIAS_LENGTH", "1"),
        ("ALIAS_LENGTH", "41"),
        ("MOVING_AVG_WINDOW", "0"),
        ("MOVING_AVG_WINDOW", "2.5"),
        ("TREND_THRESHOLD", "1.5"),
        ("TREND_THRESHOLD", "five percent"),
        ("LITE_LLM_TIMEOUT", "0"),
        ("LITE_LLM_MAX_RETRIES", "-1"),
        ("MAX_FILE_MB", "0"),
        ("PARSE_TIMEOUT_S", "-3"),
        ("PARSE_MEMORY_MB", "100"),
        ("DB_PORT", "fivefourthreetwo"),
    ],
)
def test_an_invalid_value_fails_with_the_name_of_its_variable(
    make_settings: Callable[..., Settings], variable: str, value: str
) -> None:
    env = {variable: value}
    if variable == "DB_PORT":
        env.update(DB_HOST="db.internal", DB_NAME="ar")
    with pytest.raises(ConfigError, match=variable):
        make_settings(**env)


def test_db_host_without_db_name_fails_naming_db_name(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="DB_NAME"):
        make_settings(DB_HOST="db.internal")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {
                "DB_HOST": "db.internal",
                "DB_NAME": "ar",
                "DB_USER": "finance",
                "DB_PASSWORD": "p@ss:w/rd",
                "DB_PORT": "6543",
            },
            "postgresql+psycopg2://finance:p%40ss%3Aw%2Frd@db.internal:6543/ar",
        ),
        ({"DB_HOST": "db.internal", "DB_NAME": "ar"}, "postgresql+psycopg2://postgres@db.internal:5432/ar"),
        ({"DATABASE_URL": "postgres://u:p@h/d"}, "postgresql+psycopg2://u:p@h/d"),
        ({"DATABASE_URL": "postgresql://u@h:5433/d"}, "postgresql+psycopg2://u@h:5433/d"),
        ({"DATABASE_URL": "postgresql+psycopg2://u@h/d"}, "postgresql+psycopg2://u@h/d"),
        ({"DATABASE_URL": "sqlite:////srv/ar.db", "DB_HOST": "ignored", "DB_NAME": "x"}, "sqlite:////srv/ar.db"),
    ],
)
def test_database_url_comes_from_database_url_or_the_db_variables(env: dict[str, str], expected: str) -> None:
    assert resolve_database_url(env, Path("/home")) == expected


def test_postgresql_settings_report_the_postgresql_backend(make_settings: Callable[..., Settings]) -> None:
    assert make_settings(DB_HOST="h", DB_NAME="d").database_backend == "postgresql"


def test_allowed_buckets_are_the_upload_bucket_plus_the_allow_list(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(AWS_S3_BUCKET="uploads-bucket", S3_ALLOWED_BUCKETS=" exports , archive,,")
    assert settings.allowed_buckets == {"uploads-bucket", "exports", "archive"}
    assert settings.storage_backend == "s3"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("uploads/", "uploads/"), ("/team/ledgers", "team/ledgers/"), ("", ""), ("  in  ", "in/")],
)
def test_the_upload_prefix_is_normalised_to_a_relative_folder(
    make_settings: Callable[..., Settings], raw: str, expected: str
) -> None:
    assert make_settings(S3_UPLOAD_PREFIX=raw).s3_upload_prefix == expected


def test_aws_region_falls_back_to_aws_default_region(make_settings: Callable[..., Settings]) -> None:
    assert make_settings(AWS_DEFAULT_REGION="eu-west-1").aws_region == "eu-west-1"
    assert make_settings(AWS_DEFAULT_REGION="eu-west-1", AWS_REGION="eu-north-1").aws_region == "eu-north-1"


def test_secrets_never_appear_in_the_repr(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(AWS_SECRET_ACCESS_KEY="aws-secret", LITE_LLM_API_KEY="llm-secret", ALIAS_SALT="salty")
    text = repr(settings)
    assert "aws-secret" not in text and "llm-secret" not in text and "salty" not in text


def test_with_overrides_validates_again(settings: Settings) -> None:
    assert settings.with_overrides(alias_length=12).alias_length == 12
    with pytest.raises(ConfigError, match="ALIAS_LENGTH"):
        settings.with_overrides(alias_length=1)


def test_alias_salt_from_the_environment_wins_and_writes_no_file(tmp_path: Path) -> None:
    settings = load_settings({"FINLIB_HOME": str(tmp_path), "ALIAS_SALT": "team-salt"}, dotenv_path=None)
    assert settings.alias_salt == b"team-salt"
    assert not (tmp_path / SALT_FILE_NAME).exists()


def test_without_alias_salt_one_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    environ = {"FINLIB_HOME": str(tmp_path / "home")}

    first = load_settings(environ, dotenv_path=None)
    second = load_settings(environ, dotenv_path=None)

    salt_file = tmp_path / "home" / SALT_FILE_NAME
    assert len(first.alias_salt) == 64
    assert first.alias_salt == second.alias_salt
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert salt_file.read_text().strip().encode() == first.alias_salt


def test_two_data_homes_get_different_salts(tmp_path: Path) -> None:
    assert resolve_alias_salt(None, tmp_path / "a") != resolve_alias_salt(None, tmp_path / "b")


def test_an_empty_salt_file_is_an_error_rather_than_a_silent_new_salt(tmp_path: Path) -> None:
    (tmp_path / SALT_FILE_NAME).write_text("\n")
    with pytest.raises(ConfigError, match="ALIAS_SALT"):
        resolve_alias_salt(None, tmp_path)


def test_an_alias_salt_override_skips_the_salt_file(tmp_path: Path) -> None:
    settings = load_settings({"FINLIB_HOME": str(tmp_path)}, dotenv_path=None, alias_salt=b"given")
    assert settings.alias_salt == b"given"
    assert not (tmp_path / SALT_FILE_NAME).exists()


def test_finlib_home_expands_the_user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings({"FINLIB_HOME": "~/finlib-data", "ALIAS_SALT": "s"}, dotenv_path=None)
    assert settings.home == (tmp_path / "finlib-data").resolve()


def test_the_data_home_is_created_private_to_the_user(tmp_path: Path) -> None:
    home = tmp_path / "private-home"
    load_settings({"FINLIB_HOME": str(home), "ALIAS_SALT": "s"}, dotenv_path=None)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_an_existing_data_home_open_to_others_is_made_private(tmp_path: Path) -> None:
    home = tmp_path / "shared-home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    load_settings({"FINLIB_HOME": str(home), "ALIAS_SALT": "s"}, dotenv_path=None)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_a_data_home_that_cannot_be_created_names_finlib_home(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match="FINLIB_HOME"):
        load_settings({"FINLIB_HOME": str(blocker / "home")}, dotenv_path=None)


PARSE_MODULES = ("parsing", "readers", "values", "schema", "rejections", "ledger")


def test_every_parse_setting_reaches_the_child_and_the_cache_key(settings: Settings) -> None:
    from dataclasses import fields, replace

    from finlib.config import ParseSettings

    base = settings.parse
    for field_ in fields(ParseSettings):
        changed = replace(base, **{field_.name: getattr(base, field_.name) + 1})
        assert ParseSettings(**changed.to_json()) == changed, field_.name
        assert changed.cache_material() != base.cache_material(), field_.name


def test_the_parsing_modules_read_no_setting_outside_the_parse_settings() -> None:
    import ast
    from dataclasses import fields

    from finlib.config import ParseSettings

    allowed = {f.name for f in fields(ParseSettings)}
    folder = Path(__file__).resolve().parents[1] / "finlib" / "ingest"
    read: set[str] = set()
    for module in PARSE_MODULES:
        tree = ast.parse((folder / f"{module}.py").read_text(encoding="utf-8"))
        read |= {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "settings"
        }
    assert read and read <= allowed
