"""Every page and API answer: a strict Content-Security-Policy and no copy kept by any cache."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_a_page_has_a_strict_policy_with_a_nonce(rita_client):
    policy = directives(rita_client.get("/queue/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'" and policy["script-src"][1].startswith("'nonce-")
    assert policy["style-src"][0] == "'self'"
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == policy["object-src"] == policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    assert not any("unsafe-eval" in value for values in policy.values() for value in values)


def test_no_page_template_carries_an_inline_script_or_style_without_the_nonce(rita_client):
    for url in ["/queue/", "/inquiries/new/", "/patients/", "/cases/", "/tasks/", "/login/"]:
        html = rita_client.get(url).content.decode()
        assert "<script>" not in html and "<style>" not in html, url
        assert " style=" not in html, url


def test_htmx_is_told_not_to_inject_styles_or_evaluate_attributes(rita_client):
    html = rita_client.get("/queue/").content.decode()
    assert '"includeIndicatorStyles": false' in html and '"allowEval": false' in html


@pytest.mark.parametrize("url", ["/queue/", "/login/", "/patients/", "/api/v1/patients", "/healthz"])
def test_pages_and_api_answers_are_never_stored(rita_client, auth, url):
    response = rita_client.get(url, **auth)
    assert "no-store" in response["Cache-Control"]


def test_static_assets_stay_cacheable(client):
    response = client.get("/static/clinicflow/clinicflow.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_embedded_default_works_over_plain_http(client, receptionist, settings):
    assert not settings.SESSION_COOKIE_SECURE and not getattr(settings, "SECURE_SSL_REDIRECT", False)
    response = client.post("/login/", {"username": "rita", "password": "pass-rita"})
    assert response.status_code == 302
    assert "Strict-Transport-Security" not in client.get("/queue/")


def clean_environment(tmp_path, **env) -> dict:
    """This process's environment without our settings (nor the browser tests' async switch) plus `env`."""
    skip = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLINICFLOW_") and k not in skip}
    return {**environment, "CLINICFLOW_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "clinicflow.settings",
            **env}


def run_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = clean_environment(tmp_path, **env)
    script = ("from django.conf import settings as s; import django; django.setup();"
              "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)")
    return subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                          timeout=60)


def test_clinicflow_https_turns_on_hsts_for_a_year_secure_cookies_and_the_https_redirect(tmp_path):
    assert run_settings(tmp_path, CLINICFLOW_HTTPS="true").stdout.split() == ["31536000", "True", "True", "True"]
    assert run_settings(tmp_path).stdout.split() == ["0", "False", "False", "False"]


def test_the_older_secure_cookies_switch_still_makes_the_cookies_secure(tmp_path):
    assert run_settings(tmp_path, CLINICFLOW_SECURE_COOKIES="true").stdout.split() == ["0", "True", "True", "False"]


def test_with_clinicflow_https_the_deploy_check_only_asks_for_what_we_chose_not_to_do(tmp_path):
    environment = clean_environment(tmp_path, CLINICFLOW_HTTPS="true", CLINICFLOW_ALLOWED_HOSTS="crm.clinic.example")
    check = subprocess.run([sys.executable, "-m", "django", "check", "--deploy"], env=environment,
                           capture_output=True, text=True, timeout=60)
    warnings = {line.split(")")[0].strip("?: (") for line in check.stderr.splitlines() if line.startswith("?:")}
    # W005/W021: includeSubDomains and preload would force HTTPS on the clinic's other sites too.
    assert warnings <= {"security.W005", "security.W021"}, check.stderr
