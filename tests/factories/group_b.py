"""Cases for GitLab, JSR, crates.io, RubyGems, NuGet, Docker Hub, Hugging Face,
Terraform Cloud, Clojars, Private Packagist, Cloudsmith and GitHub fine-grained
PATs: generators for well-formed values (correct checksums where the format has
one) and the look-alikes that must not be reported."""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Callable, Mapping

from scanner.model import Liveness
from scanner.validators.checksums import crc32_base62
from scanner.validators.crates import check_char
from scanner.validators.gitlab import routable_crc, to_base36
from scanner.validators.packagist import packagist_checksum
from tests.factories import DecoyCase, TokenCase
from tests.tokenfactory import base62, break_checksum

URLSAFE = string.ascii_letters + string.digits + "_-"
HEX = "0123456789abcdef"
LETTERS = string.ascii_letters


def pick(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


# --- GitLab ---------------------------------------------------------------


def gitlab_plain(prefix: str, length: int = 20, alphabet: str = URLSAFE) -> Callable[[random.Random], str]:
    """A maker for ``prefix`` + ``length`` random characters (the non-routable form)."""
    return lambda rng: prefix + pick(rng, alphabet, length)


def gitlab_routable(
    rng: random.Random,
    prefix: str = "glpat-",
    routing: Mapping[str, int | str] | None = None,
    *,
    versioned: bool = True,
) -> str:
    """A routable token built the way GitLab's generator builds it."""
    if routing is None:
        routing = {"o": 1, "u": rng.randrange(1, 30_000_000)}
    lines = "\n".join(f"{k}:{to_base36(v, 1) if isinstance(v, int) else v}" for k, v in sorted(routing.items()))
    payload = lines.encode()
    noise = rng.randbytes(16)
    if versioned:  # version 01: random bytes, payload, payload length
        raw = noise + payload + bytes([len(payload)])
    else:  # unversioned: payload, random bytes, 16
        raw = payload + noise + bytes([16])
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    head = f"{prefix}{encoded}." + ("01." if versioned else "") + to_base36(len(encoded), 2)
    return head + routable_crc(head)


def routable_maker(prefix: str) -> Callable[[random.Random], str]:
    """A maker for routable tokens under ``prefix`` with a project in the routing."""
    return lambda rng: gitlab_routable(rng, prefix, ROUTING)


def change_last(token: str, alphabet: str) -> str:
    """``token`` with its last character replaced by another one of ``alphabet``."""
    return token[:-1] + next(c for c in alphabet if c != token[-1])


# --- JSR, crates.io ------------------------------------------------------------


def jsr_token(rng: random.Random, kind: str = "p", random_part: str | None = None) -> str:
    head = f"jsr{kind}_{random_part if random_part is not None else base62(rng, 29)}"
    return head + crc32_base62(head)


def crates_token(rng: random.Random) -> str:
    return "cio" + base62(rng, 32)


def crates_tp_token(rng: random.Random) -> str:
    raw = base62(rng, 31)
    return f"cio_tp_{raw}{check_char(raw)}"


# --- NuGet -----------------------------------------------------------------------


def base32_lower(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def nuget_key(rng: random.Random, id_prefix: bytes = b"v4") -> str:
    id_bytes = bytes(rng.randrange(1, 256) for _ in range(10))
    return base32_lower(id_prefix + id_bytes) + base32_lower(rng.randbytes(16))


# --- the rest ----------------------------------------------------------------------


def terraform_token(rng: random.Random) -> str:
    return f"{base62(rng, 14)}.atlasv1.{pick(rng, URLSAFE, 67)}"


def packagist_token(rng: random.Random, kind: str = "ort", *, checksum: bool = True) -> str:
    prefix, random_part = f"packagist_{kind}_", pick(rng, HEX, 60)
    return prefix + random_part + (packagist_checksum(prefix, random_part) if checksum else pick(rng, HEX, 8))


def cloudsmith_key(rng: random.Random) -> str:
    return "csa_" + pick(rng, HEX, 30) + base62(rng, 6)


def github_fine_grained(rng: random.Random) -> str:
    return f"github_pat_{base62(rng, 22)}_{base62(rng, 59)}"


# --- where the credentials stand -------------------------------------------------

NPMRC_GITLAB = (
    "@acme:registry=https://gitlab.com/api/v4/projects/4711/packages/npm/\n"
    "//gitlab.com/api/v4/projects/4711/packages/npm/:_authToken={secret}\n"
)
SETTINGS_XML = (
    "<settings>\n  <servers>\n    <server>\n      <id>gitlab-maven</id>\n      <configuration>\n"
    "        <httpHeaders>\n          <property>\n            <name>Private-Token</name>\n"
    "            <value>{secret}</value>\n          </property>\n        </httpHeaders>\n"
    "      </configuration>\n    </server>\n  </servers>\n</settings>\n"
)
AUTH_JSON = '{\n  "http-basic": {\n    "repo.packagist.com": {\n      "username": "token",\n      "password": "{secret}"\n    }\n  }\n}\n'
UNVERIFIABLE = Liveness.UNVERIFIABLE

# (rule id, prefix, template, file name, scope words) for the GitLab prefixes whose
# plain form has nothing to check; each also gets a routable-form case.
GITLAB_OTHERS = [
    (
        "gitlab-deploy-token",
        "gldt-",
        "docker login registry.gitlab.com -u gitlab+deploy-token-17 -p {secret}\n",
        "deploy.sh",
        "deploy token",
    ),
    (
        "gitlab-ci-job-token",
        "glcbt-",
        '$ curl --header "JOB-TOKEN: {secret}" "$CI_API_V4_URL/projects/1/packages"\n',
        "job.log",
        "job token",
    ),
    (
        "gitlab-pipeline-trigger-token",
        "glptt-",
        "curl -X POST -F token={secret} -F ref=main https://gitlab.com/api/v4/projects/1/trigger/pipeline\n",
        "trigger.sh",
        "trigger token",
    ),
    (
        "gitlab-runner-token",
        "glrt-",
        '[[runners]]\n  name = "build"\n  url = "https://gitlab.com"\n  token = "{secret}"\n',
        "config.toml",
        "runner authentication token",
    ),
    (
        "gitlab-feed-token",
        "glft-",
        "https://gitlab.com/dashboard/issues.atom?feed_token={secret}&state=opened\n",
        "feeds.txt",
        "feed token",
    ),
    ("gitlab-oauth-app-secret", "gloas-", "GITLAB_OAUTH_SECRET={secret}\n", ".env", "OAuth application secret"),
    ("gitlab-incoming-mail-token", "glimt-", "incoming_email_token: {secret}\n", "gitlab.yml", "incoming email token"),
    (
        "gitlab-agent-token",
        "glagent-",
        "helm upgrade --install agent gitlab/gitlab-agent --set config.token={secret}\n",
        "install.sh",
        "Kubernetes token",
    ),
    ("gitlab-scim-token", "glsoat-", "SCIM_TOKEN={secret}\n", ".env", "SCIM token"),
    (
        "gitlab-feature-flag-client-token",
        "glffct-",
        "UNLEASH_INSTANCE_ID={secret}\n",
        ".env",
        "feature flag client token",
    ),
]
ROUTING: dict[str, int | str] = {"o": 1, "p": 4711}

CASES = [
    # GitLab personal access tokens
    TokenCase(
        "gitlab-pat",
        gitlab_plain("glpat-"),
        NPMRC_GITLAB,
        ".npmrc",
        UNVERIFIABLE,
        "personal access token (legacy format)",
    ),
    TokenCase("gitlab-pat", gitlab_plain("glpat-"), SETTINGS_XML, "settings.xml", UNVERIFIABLE, label="maven"),
    TokenCase("gitlab-pat-routable", gitlab_routable, "GITLAB_TOKEN={secret}\n", ".env", scope="organisation 1, user"),
    TokenCase(
        "gitlab-pat-routable",
        lambda r: gitlab_routable(r, routing={"c": 1, "o": 2, "u": r.randrange(1, 1 << 40)}),
        SETTINGS_XML,
        "settings.xml",
        scope="organisation 2, user",
        label="cell",
    ),
    TokenCase(
        "gitlab-pat-routable",
        lambda r: gitlab_routable(r, versioned=False),
        "git clone https://oauth2:{secret}@gitlab.com/acme/app.git\n",
        "clone.sh",
        scope="organisation 1, user",
        label="unversioned",
    ),
    TokenCase("gitlab-pat-routable", gitlab_routable, NPMRC_GITLAB, ".npmrc", scope="(routable)", label="npmrc"),
    *(
        TokenCase(rule, gitlab_plain(prefix), tpl, name, UNVERIFIABLE, words)
        for rule, prefix, tpl, name, words in GITLAB_OTHERS
    ),
    *(
        TokenCase(rule, routable_maker(prefix), tpl, name, scope=words, label="routable")
        for rule, prefix, tpl, name, words in GITLAB_OTHERS
    ),
    TokenCase(
        "gitlab-pipeline-trigger-token",
        gitlab_plain("glptt-", 40, HEX),
        "TRIGGER_TOKEN={secret}\n",
        liveness=UNVERIFIABLE,
        label="hex",
    ),
    TokenCase(
        "gitlab-agent-token", gitlab_plain("glagent-", 50), "token: {secret}\n", liveness=UNVERIFIABLE, label="50"
    ),
    TokenCase(
        "gitlab-runner-registration-token",
        gitlab_plain("GR1348941"),
        "gitlab-runner register --url https://gitlab.com --registration-token {secret}\n",
        "register.sh",
        UNVERIFIABLE,
        "registration token",
    ),
    # JSR
    TokenCase(
        "jsr-token", jsr_token, "deno publish --token {secret}\n", "publish.sh", scope="JSR personal access token"
    ),
    TokenCase(
        "jsr-token", lambda r: jsr_token(r, "w"), "JSR_TOKEN={secret}\n", ".env", scope="web session", label="web"
    ),
    TokenCase(
        "jsr-token",
        lambda r: jsr_token(r, "d"),
        '  run: npx jsr publish --token "{secret}"\n',
        "ci.log",
        scope="device",
        label="device",
    ),
    # crates.io
    TokenCase(
        "crates-io-token",
        crates_token,
        '[registry]\ntoken = "{secret}"\n',
        "credentials.toml",
        UNVERIFIABLE,
        "crates.io API token",
    ),
    TokenCase("crates-io-token", crates_token, "$ cargo login {secret}\n", "history.txt", UNVERIFIABLE, label="login"),
    TokenCase(
        "crates-io-token",
        crates_token,
        "env:\n  CARGO_REGISTRY_TOKEN: {secret}\n",
        "release.yml",
        UNVERIFIABLE,
        label="env",
    ),
    TokenCase(
        "crates-io-trusted-publishing-token",
        crates_tp_token,
        "  CARGO_REGISTRY_TOKEN: \x1b[36m{secret}\x1b[0m\n",
        "ci.log",
        scope="trusted-publishing",
    ),
    # RubyGems
    TokenCase(
        "rubygems-api-key",
        lambda r: "rubygems_" + pick(r, HEX, 48),
        "---\n:rubygems_api_key: {secret}\n",
        "credentials",
        UNVERIFIABLE,
        "RubyGems API key",
    ),
    TokenCase(
        "rubygems-api-key",
        lambda r: "rubygems_" + pick(r, HEX, 48),
        "GEM_HOST_API_KEY={secret}\n",
        ".env",
        UNVERIFIABLE,
        label="env",
    ),
    # NuGet
    TokenCase(
        "nuget-api-key",
        nuget_key,
        "dotnet nuget push pkg.1.0.0.nupkg --api-key {secret} --source https://api.nuget.org/v3/index.json\n",
        "push.sh",
        scope="scope not encoded",
    ),
    TokenCase(
        "nuget-api-key",
        nuget_key,
        '<configuration>\n  <packageSourceCredentials>\n    <feed>\n      <add key="Username" value="ci" />\n'
        '      <add key="ClearTextPassword" value="{secret}" />\n    </feed>\n  </packageSourceCredentials>\n</configuration>\n',
        "NuGet.Config",
        label="config",
    ),
    # Docker Hub
    TokenCase(
        "dockerhub-pat",
        lambda r: "dckr_pat_" + pick(r, URLSAFE, 27),
        "docker login -u acme -p {secret}\n",
        "login.sh",
        UNVERIFIABLE,
        "personal access token",
    ),
    TokenCase(
        "dockerhub-pat",
        lambda r: "dckr_pat_" + pick(r, URLSAFE, 27),
        "DOCKERHUB_TOKEN={secret}\n",
        ".env",
        UNVERIFIABLE,
        label="env",
    ),
    TokenCase(
        "dockerhub-oat",
        lambda r: "dckr_oat_" + pick(r, URLSAFE, 32),
        "echo {secret} | docker login -u acme-org --password-stdin\n",
        "login.sh",
        UNVERIFIABLE,
        "organization access token",
    ),
    # Hugging Face
    TokenCase(
        "huggingface-token",
        lambda r: "hf_" + pick(r, LETTERS, 34),
        "{secret}",
        "token",
        UNVERIFIABLE,
        "Hugging Face user access token",
    ),
    TokenCase(
        "huggingface-token",
        lambda r: "hf_" + pick(r, LETTERS, 34),
        "HF_TOKEN={secret}\n",
        ".env",
        UNVERIFIABLE,
        label="env",
    ),
    TokenCase(
        "huggingface-org-token",
        lambda r: "api_org_" + pick(r, LETTERS, 34),
        "HUGGINGFACEHUB_API_TOKEN={secret}\n",
        ".env",
        UNVERIFIABLE,
        "organization API token",
    ),
    # Terraform Cloud
    TokenCase(
        "terraform-cloud-token",
        terraform_token,
        '{\n  "credentials": {\n    "app.terraform.io": {\n      "token": "{secret}"\n    }\n  }\n}\n',
        "credentials.tfrc.json",
        UNVERIFIABLE,
        "Terraform Cloud",
    ),
    TokenCase(
        "terraform-cloud-token",
        terraform_token,
        "export TF_TOKEN_app_terraform_io={secret}\n",
        "env.sh",
        UNVERIFIABLE,
        label="env",
    ),
    # Clojars
    TokenCase(
        "clojars-deploy-token",
        lambda r: "CLOJARS_" + pick(r, HEX, 60),
        '{:auth {:repository-auth {#"clojars" {:username "acme" :password "{secret}"}}}}\n',
        "profiles.clj",
        UNVERIFIABLE,
        "Clojars deploy token",
    ),
    TokenCase(
        "clojars-deploy-token",
        lambda r: "CLOJARS_" + pick(r, HEX, 60),
        "CLOJARS_PASSWORD={secret}\n",
        ".env",
        UNVERIFIABLE,
        label="env",
    ),
    # Private Packagist
    TokenCase("packagist-token", packagist_token, AUTH_JSON, "auth.json", scope="read-only"),
    TokenCase(
        "packagist-token",
        lambda r: packagist_token(r, "out"),
        AUTH_JSON,
        "auth.json",
        scope="update access",
        label="out",
    ),
    TokenCase(
        "packagist-token", lambda r: packagist_token(r, "uut"), AUTH_JSON, "auth.json", scope="user token", label="uut"
    ),
    TokenCase(
        "packagist-token", lambda r: packagist_token(r, "cut"), AUTH_JSON, "auth.json", scope="Conductor", label="cut"
    ),
    TokenCase(
        "packagist-token",
        lambda r: packagist_token(r, "out", checksum=False),
        AUTH_JSON,
        "auth.json",
        UNVERIFIABLE,
        "update access",
        label="checksum-unconfirmed",
    ),
    TokenCase(
        "packagist-api-key",
        lambda r: "packagist_ack_" + pick(r, HEX, 32),
        "PACKAGIST_API_KEY={secret}\n",
        ".env",
        UNVERIFIABLE,
        "API key",
    ),
    TokenCase(
        "packagist-api-secret",
        lambda r: "packagist_acs_" + pick(r, HEX, 64),
        "PACKAGIST_API_SECRET={secret}\n",
        ".env",
        UNVERIFIABLE,
        "API secret",
    ),
    # Cloudsmith
    TokenCase(
        "cloudsmith-api-key",
        cloudsmith_key,
        "[default]\napi_key = {secret}\n",
        "credentials.ini",
        UNVERIFIABLE,
        "Cloudsmith API key",
    ),
    TokenCase("cloudsmith-api-key", cloudsmith_key, "CLOUDSMITH_API_KEY={secret}\n", ".env", UNVERIFIABLE, label="env"),
    # GitHub fine-grained PAT
    TokenCase(
        "github-fine-grained-pat",
        github_fine_grained,
        "//npm.pkg.github.com/:_authToken={secret}\n",
        ".npmrc",
        UNVERIFIABLE,
        "repositories and permissions chosen at creation",
    ),
    TokenCase("github-fine-grained-pat", github_fine_grained, "GH_TOKEN={secret}\n", ".env", UNVERIFIABLE, label="env"),
]


def _wrong_length_field(rng: random.Random) -> str:
    """A routable PAT whose length field is off by one, CRC recomputed to match."""
    token = gitlab_routable(rng)
    head = token[:-9] + to_base36(int(token[-9:-7], 36) + 1, 2)
    return head + routable_crc(head)


def _jsr_github_way(rng: random.Random) -> str:
    """A JSR token whose checksum leaves the prefix out, as GitHub's does."""
    random_part = base62(rng, 29)
    return f"jsrp_{random_part}{crc32_base62(random_part)}"


def _mixed_case(key: str) -> str:
    return key[:10] + key[10:20].upper() + key[20:]


BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

DECOYS = [
    # checksums changed by one character
    DecoyCase("jsr checksum changed", lambda r: f"deno publish --token {break_checksum(jsr_token(r))}\n"),
    DecoyCase("jsr checksum without prefix", lambda r: f"JSR_TOKEN={_jsr_github_way(r)}\n"),
    DecoyCase(
        "gitlab routable checksum changed", lambda r: f"GITLAB_TOKEN={change_last(gitlab_routable(r), BASE36)}\n"
    ),
    DecoyCase(
        "gitlab unversioned checksum changed",
        lambda r: f"GITLAB_TOKEN={change_last(gitlab_routable(r, versioned=False), BASE36)}\n",
    ),
    DecoyCase("gitlab routable length field wrong", lambda r: f"GITLAB_TOKEN={_wrong_length_field(r)}\n"),
    DecoyCase(
        "gitlab runner routable checksum changed",
        lambda r: f'token = "{change_last(gitlab_routable(r, "glrt-t1_", ROUTING), BASE36)}"\n',
    ),
    DecoyCase(
        "gitlab deploy routable checksum changed",
        lambda r: f"-p {change_last(gitlab_routable(r, 'gldt-', ROUTING), BASE36)}\n",
    ),
    DecoyCase(
        "crates tp check changed", lambda r: f"CARGO_REGISTRY_TOKEN={change_last(crates_tp_token(r), URLSAFE[:62])}\n"
    ),
    DecoyCase("nuget not v4", lambda r: f"--api-key {nuget_key(r, b'v5')}\n"),
    DecoyCase(
        "nuget zero id byte",
        lambda r: (
            "--api-key "
            + base32_lower(b"v4\x00" + bytes(r.randrange(1, 256) for _ in range(9)))
            + base32_lower(r.randbytes(16))
            + "\n"
        ),
    ),
    # truncated and mixed case
    # (in prose: context rules such as JSR_TOKEN= judge the value by where it stands)
    DecoyCase("truncated jsr", lambda r: f"The old token ({jsr_token(r)[:-1]}) was rotated.\n"),
    DecoyCase("truncated gitlab routable", lambda r: f"The old token ({gitlab_routable(r)[:-2]}) was rotated.\n"),
    DecoyCase("truncated crates", lambda r: f"The old token ({crates_token(r)[:-4]}) was rotated.\n"),
    DecoyCase("truncated crates tp", lambda r: f"The old token ({crates_tp_token(r)[:-1]}) was rotated.\n"),
    DecoyCase("truncated nuget", lambda r: f"The old key ({nuget_key(r)[:-1]}) was rotated.\n"),
    DecoyCase("truncated huggingface", lambda r: "The old token (hf_" + pick(r, LETTERS, 30) + ") was rotated.\n"),
    DecoyCase(
        "docker api docs example", lambda r: '{"identifier": "acme", "secret": "dckr_pat_' + '124509ugsdjga93"}\n'
    ),
    DecoyCase("truncated rubygems", lambda r: "The old key (rubygems_" + pick(r, HEX, 40) + ") was rotated.\n"),
    DecoyCase("truncated packagist", lambda r: f'"password": "{packagist_token(r)[:-8]}"\n'),
    DecoyCase("mixed-case nuget", lambda r: f"--api-key {_mixed_case(nuget_key(r))}\n"),
    DecoyCase("upper-case nuget", lambda r: f"--api-key {nuget_key(r).upper()}\n"),
    # placeholders, variables, masking
    DecoyCase("glpat placeholder", lambda r: "PRIVATE-TOKEN: glpat-xxxxxxxxxxxxxxxxxxxx\n"),
    DecoyCase("glpat dashed placeholder", lambda r: "GITLAB_TOKEN=glpat-XXXXXXXXXXX-XXXXXXXX\n"),
    DecoyCase("glpat routable placeholder", lambda r: "GITLAB_TOKEN=glpat-xxxxxxxx-xxxxxxxxxxxxxxxxxx.xxxxxxxxx\n"),
    DecoyCase("runner registration placeholder", lambda r: "--registration-token GR1348941XXXXXXXXXXXXXXXXXXXX\n"),
    DecoyCase("hf placeholder", lambda r: "HF_TOKEN=hf_" + "x" * 34 + "\n"),
    DecoyCase("docker placeholder", lambda r: "DOCKERHUB_TOKEN=dckr_pat_" + "X" * 27 + "\n"),
    DecoyCase("clojars zeros", lambda r: "CLOJARS_PASSWORD=CLOJARS_" + "0" * 60 + "\n"),
    DecoyCase("github fine-grained placeholder", lambda r: "GH_TOKEN=github_pat_" + "x" * 22 + "_" + "x" * 59 + "\n"),
    DecoyCase(
        "variables",
        lambda r: (
            "CARGO_REGISTRY_TOKEN=${CARGO_REGISTRY_TOKEN}\nNUGET_API_KEY: ${{ secrets.NUGET_API_KEY }}\nHF_TOKEN=<your-token>\nJSR_TOKEN=$JSR_TOKEN\n"
        ),
    ),
    DecoyCase("gitlab masked", lambda r: "PRIVATE-TOKEN: [MASKED]\nGITLAB_TOKEN=glpat-****\n"),
    DecoyCase("partial redaction", lambda r: f"token: {gitlab_routable(r)[:12]}...{jsr_token(r)[-4:]}\n"),
    # sequential bodies (some with a valid checksum)
    DecoyCase("sequential jsr", lambda r: f"JSR_TOKEN={jsr_token(r, random_part='abcdefghijklmnopqrstuvwxyzABC')}\n"),
    DecoyCase("sequential crates", lambda r: "cargo login cio" + "abcdefghijklmnopqrstuvwxyz012345\n"),
    DecoyCase("sequential rubygems", lambda r: "GEM_HOST_API_KEY=rubygems_" + "0123456789abcdef" * 3 + "\n"),
    DecoyCase("sequential cloudsmith", lambda r: "CLOUDSMITH_API_KEY=csa_" + "0123456789abcdef0123456789abcdABCDEF\n"),
    # documentation examples
    DecoyCase(
        "rubygems guides example",
        lambda r: ":rubygems_api_key: rubygems_" + "b9ce70c306b3a2e248679fbbbd66723d408d3c8c5f00566c\n",
    ),
    DecoyCase(
        "nuget learn example", lambda r: "nuget push pkg.nupkg " + "qz2jga8pl3dvn2akksyquwcs9ygggg4exypy3bhxy6w6x6\n"
    ),
    # look-alikes
    DecoyCase("words holding cio", lambda r: "A precious, socioeconomic, gracious ciphertext: cio_tp_ and cio.\n"),
    DecoyCase(
        "base32 not oy2", lambda r: f"id: {base32_lower(b'v3' + r.randbytes(10))}{base32_lower(r.randbytes(16))}\n"
    ),
    DecoyCase("atlasv1 short id", lambda r: f"host: {base62(r, 8)}.atlasv1.{pick(r, URLSAFE, 20)}\n"),
    DecoyCase("csa_ short", lambda r: "csa_" + pick(r, HEX, 12) + "\n"),
    DecoyCase("packagist unknown kind", lambda r: "packagist_xyz_" + pick(r, HEX, 68) + "\n"),
]
