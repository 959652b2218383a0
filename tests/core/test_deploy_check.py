import os
import subprocess
import sys

from tests.support import BASE_DIR


def run_check(extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_SETTINGS_MODULE": "profiler_site.settings.production", **extra_env})
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                           "WARNING"], cwd=BASE_DIR, env=env, capture_output=True, text=True)


def test_check_deploy_prints_no_warnings_with_production_settings():
    result = run_check({"DJANGO_SECRET_KEY": "k" * 10 + "x9!Zq" * 10 + "p@ssw0rdRANDOM",
                        "DJANGO_ALLOWED_HOSTS": "profiler.example.com"})

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check({"DJANGO_ALLOWED_HOSTS": "profiler.example.com"})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_check({"DJANGO_SECRET_KEY": "z" * 60})

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr
