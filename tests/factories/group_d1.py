"""Cases for credentials found by where they stand in configuration files:
.npmrc / .yarnrc.yml / bunfig.toml, .pypirc and index URLs, URL userinfo, docker
configs and logins, Maven settings.xml, NuGet.Config, Gradle, Cargo, RubyGems,
Composer, JFrog CLI and Terraform credentials.

Values are random (seeded) opaque tokens and passwords; base64 forms are built
here. Decoys are the documentation-style values these files really hold.
"""

from __future__ import annotations

import base64
import json
import random
import string
import time
import uuid
from collections.abc import Callable

from scanner.model import Liveness
from tests.factories import DecoyCase, TokenCase
from tests.tokenfactory import base62

Make = Callable[[random.Random], str]


# ------------------------------------------------------------------ values


def token(rng: random.Random, length: int | None = None) -> str:
    """An opaque base62 token as private registries issue them."""
    while True:
        value = base62(rng, length or rng.randint(24, 44))
        # a real token mixes letters and digits; a digit-free value would be
        # judged by word heuristics that are not under test here
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def password(rng: random.Random) -> str:
    """A generated password with some punctuation (none that a URL, XML or
    shell line would need escaped)."""
    alphabet = string.ascii_letters + string.digits + "!*^~_-"
    while True:
        value = rng.choice(string.ascii_letters) + "".join(rng.choice(alphabet) for _ in range(rng.randint(15, 27)))
        if any(c.isdigit() for c in value):
            return value


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def basic(user: str, secret: Make = token) -> Make:
    """base64 of ``user:secret`` (docker ``auth``, npm ``_auth``)."""
    return lambda rng: b64(f"{user}:{secret(rng)}")


def ecr_password(rng: random.Random, expires_in: int) -> str:
    """Amazon ECR's docker password: base64 JSON with an expiry (12 h)."""
    document = {
        "payload": base64.b64encode(rng.randbytes(rng.randint(600, 900))).decode(),
        "datakey": base64.b64encode(rng.randbytes(180)).decode(),
        "version": "2",
        "type": "DATA_KEY",
        "expiration": int(time.time()) + expires_in,
    }
    return b64(json.dumps(document, separators=(",", ":")))


def ecr_auth(expires_in: int) -> Make:
    return lambda rng: b64(f"AWS:{ecr_password(rng, expires_in)}")


def dockerconfigjson(auth: str) -> str:
    """A Kubernetes ``.dockerconfigjson``: the whole docker config in base64
    (the engine decodes it and reports the ``auth`` at the base64 text)."""
    config = {"auths": {"registry.example.com": {"username": "deploy", "auth": auth}}}
    return b64(json.dumps(config))


# ------------------------------------------------------------------ file contents

NPMRC = """registry=https://registry.npmjs.org/
@acme:registry=https://npm.pkg.example.com/
//npm.pkg.example.com/:_authToken={secret}
always-auth=true
"""
NPMRC_NPMJS = """registry=https://registry.npmjs.org/
//registry.npmjs.org/:_authToken={secret}
save-exact=true
"""
NPMRC_AUTH = """registry=https://artifactory.example.com/artifactory/api/npm/npm/
_auth={secret}
email=ci@example.com
always-auth=true
"""
NPMRC_PASSWORD = """; begin auth token
//pkgs.dev.azure.com/acme/_packaging/web/npm/registry/:username=acme
//pkgs.dev.azure.com/acme/_packaging/web/npm/registry/:_password={secret}
//pkgs.dev.azure.com/acme/_packaging/web/npm/registry/:email=npm requires email to be set but doesn't use the value
; end auth token
"""
YARNRC = """nodeLinker: node-modules
npmScopes:
  acme:
    npmRegistryServer: "https://npm.pkg.example.com"
    npmAuthToken: "{secret}"
    npmAlwaysAuth: true
yarnPath: .yarn/releases/yarn-4.1.0.cjs
"""
YARNRC_IDENT = """npmRegistries:
  "//registry.example.com":
    npmAlwaysAuth: true
    npmAuthIdent: "{secret}"
"""
BUNFIG = """[install]
exact = true

[install.scopes]
acme = { token = "{secret}", url = "https://npm.example.com/" }
"""
PYPIRC = """[distutils]
index-servers =
    pypi
    internal

[pypi]
username = __token__
password = ${PYPI_TOKEN}

[internal]
repository = https://nexus.example.com/repository/pypi-internal/
username = deployer
password = {secret}
"""
PIP_CONF = """[global]
timeout = 60
index-url = https://deployer:{secret}@pypi.example.com/simple/
trusted-host = pypi.example.com
"""
REQUIREMENTS = """--extra-index-url https://__token__:{secret}@gitlab.example.com/api/v4/projects/42/packages/pypi/simple
requests==2.32.3
acme-internal==1.4.0
"""
REQUIREMENTS_VCS = """requests==2.32.3
acme-lib @ git+https://oauth2:{secret}@gitlab.example.com/acme/lib.git@v1.2.0
"""
PYPROJECT_UV = """[project]
name = "acme-app"
version = "0.3.0"

[[tool.uv.index]]
name = "internal"
url = "https://aws:{secret}@pypi.example.com/simple/"
"""
DOCKER_CONFIG = """{
\t"auths": {
\t\t"registry.example.com": {
\t\t\t"auth": "{secret}"
\t\t}
\t},
\t"credsStore": "desktop"
}
"""
DOCKER_CONFIG_ACR = """{
  "auths": {
    "acme.azurecr.io": {
      "auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==",
      "identitytoken": "{secret}"
    }
  }
}
"""
GITLAB_CI_DOCKER_AUTH = """variables:
  DOCKER_AUTH_CONFIG: '{"auths":{"registry.example.com":{"auth":"{secret}"}}}'
build:
  image: registry.example.com/acme/builder:latest
  script: make
"""
K8S_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: regcred
  namespace: default
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {secret}
"""
DEPLOY_SH = """#!/bin/sh
set -e
docker login -u deploy -p {secret} registry.example.com
docker push registry.example.com/acme/app:latest
"""
SETTINGS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.2.0">
  <servers>
    <server>
      <id>central</id>
      <username>deployer</username>
      <password>{secret}</password>
    </server>
  </servers>
</settings>
"""
SETTINGS_XML_HEADER = """<settings>
  <servers>
    <server>
      <id>gitlab-maven</id>
      <configuration>
        <httpHeaders>
          <property>
            <name>Private-Token</name>
            <value>{secret}</value>
          </property>
        </httpHeaders>
      </configuration>
    </server>
  </servers>
</settings>
"""
SETTINGS_XML_BASIC = """<settings>
  <servers>
    <server>
      <id>internal</id>
      <configuration>
        <httpHeaders>
          <property>
            <name>Authorization</name>
            <value>Basic {secret}</value>
          </property>
        </httpHeaders>
      </configuration>
    </server>
  </servers>
</settings>
"""
NUGET_CONFIG = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="acme" value="https://pkgs.dev.azure.com/acme/_packaging/acme/nuget/v3/index.json" />
  </packageSources>
  <packageSourceCredentials>
    <acme>
      <add key="Username" value="ci" />
      <add key="ClearTextPassword" value="{secret}" />
    </acme>
  </packageSourceCredentials>
</configuration>
"""
NUGET_WORKFLOW = """steps:
  - uses: actions/checkout@v4
  - run: dotnet nuget add source https://nuget.pkg.github.com/acme/index.json -n github -u ci -p {secret} --store-password-in-clear-text
  - run: dotnet pack -c Release
"""
GRADLE_PROPERTIES = """org.gradle.jvmargs=-Xmx2g
gradle.publish.key=plugin-key-1
gradle.publish.secret={secret}
"""
GRADLE_PROPERTIES_CENTRAL = """mavenCentralUsername=deployer
mavenCentralPassword={secret}
signing.keyId=24875D73
"""
GRADLE_SIGNING = """signing.keyId=24875D73
signing.password={secret}
signing.secretKeyRingFile=/home/ci/.gnupg/secring.gpg
"""
GRADLE_ACTIONS = """jobs:
  publish:
    runs-on: ubuntu-latest
    env:
      ORG_GRADLE_PROJECT_ossrhPassword: {secret}
    steps:
      - run: ./gradlew publish
"""
BUILD_GRADLE_KTS = """publishing {
    repositories {
        maven {
            url = uri("https://nexus.example.com/repository/releases/")
            credentials {
                username = "deployer"
                password = "{secret}"
            }
        }
    }
}
"""
CARGO_CREDENTIALS = """[registry]
token = "{secret}"
"""
CARGO_ALT = """[registries.acme]
token = "{secret}"
"""
GEM_CREDENTIALS = """---
:rubygems_api_key: {secret}
"""
GEM_HOST = """---
:rubygems_api_key: ${RUBYGEMS_API_KEY}
https://gems.example.com: {secret}
"""
COMPOSER_AUTH = """{
    "http-basic": {
        "repo.example.com": {
            "username": "deployer",
            "password": "{secret}"
        }
    }
}
"""
COMPOSER_GITHUB = """{
    "github-oauth": {
        "github.com": "{secret}"
    }
}
"""
COMPOSER_GITLAB = """{
    "gitlab-token": {
        "gitlab.example.com": {
            "username": "deployer",
            "token": "{secret}"
        }
    }
}
"""
COMPOSER_BEARER = """{
    "bearer": {
        "repo.example.org": "{secret}"
    }
}
"""
JFROG_CONF = """{
  "servers": [
    {
      "url": "https://acme.jfrog.io/",
      "artifactoryUrl": "https://acme.jfrog.io/artifactory/",
      "user": "ci",
      "password": "{secret}",
      "serverId": "acme",
      "isDefault": true
    }
  ],
  "version": "6"
}
"""
TFRC_JSON = """{
  "credentials": {
    "artifactory.example.com": {
      "token": "{secret}"
    }
  }
}
"""
TERRAFORMRC = """plugin_cache_dir = "$HOME/.terraform.d/plugin-cache"

credentials "gitlab.example.com" {
  token = "{secret}"
}
"""

# Second entries: the rules chain from one entry to the next (\G); the first
# entry holds a placeholder so only the chained match is reported.
COMPOSER_TWO_HOSTS = """{
    "http-basic": {
        "repo.packagist.com": {"username": "token", "password": "${PACKAGIST_TOKEN}"},
        "satis.example.com": {"username": "ci", "password": "{secret}"}
    },
    "github-oauth": {"github.com": "${GITHUB_TOKEN}", "ghe.example.com": "{secret2}"}
}
"""
COMPOSER_GITLAB_TOKEN_FIRST = """{
    "gitlab-token": {
        "gitlab.com": "${CI_JOB_TOKEN}",
        "gitlab.example.com": {"token": "{secret}", "username": "deployer"}
    }
}
"""
JFROG_TWO_SERVERS = """{
  "servers": [
    {"url": "https://old.example.com/", "user": "ci", "password": "${JF_PASSWORD}", "serverId": "old"},
    {"url": "https://acme.jfrog.io/", "user": "ci", "accessToken": "", "refreshToken": "{secret}", "serverId": "acme"}
  ],
  "version": "6"
}
"""
TFRC_TWO_HOSTS = """{
  "credentials": {
    "app.terraform.io": {"token": "${TFE_TOKEN}"},
    "registry.example.com": {"token": "{secret}"}
  }
}
"""
CARGO_INLINE = """[registries]
crates-mirror = { index = "sparse+https://mirror.example.com/index/" }
internal = { index = "sparse+https://cargo.example.com/index/", token = "${CARGO_INTERNAL_TOKEN}" }
acme = { index = "sparse+https://acme.example.com/index/", token = "{secret}" }
"""
BUNFIG_TWO_SCOPES = """[install.scopes]
"@public" = { url = "https://registry.npmjs.org/", token = "$NPM_TOKEN" }
"@acme" = { username = "deployer", password = "{secret}", url = "https://npm.example.com/" }
"""


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


CASES = [
    TokenCase("npmrc-auth-token-npmjs", uuid4, NPMRC_NPMJS, ".npmrc", liveness=Liveness.EXPIRED, label="legacy-uuid"),
    TokenCase("npmrc-auth-token-npmjs", token, NPMRC_NPMJS, ".npmrc", liveness=Liveness.UNVERIFIABLE, scope="registry.npmjs.org"),
    TokenCase("npmrc-auth-token", token, NPMRC, ".npmrc", liveness=Liveness.UNVERIFIABLE, scope="npm registry token"),
    TokenCase("npmrc-auth-token", uuid4, NPMRC, ".npmrc", liveness=Liveness.UNVERIFIABLE, label="uuid"),
    TokenCase("npmrc-basic-auth", basic("ci-bot", password), NPMRC_AUTH, ".npmrc", liveness=Liveness.UNVERIFIABLE, scope="npm registry login"),
    TokenCase("npmrc-password", lambda r: b64(token(r)), NPMRC_PASSWORD, ".npmrc", liveness=Liveness.UNVERIFIABLE, scope="npm registry password"),
    TokenCase("yarnrc-npm-auth-token", token, YARNRC, ".yarnrc.yml", liveness=Liveness.UNVERIFIABLE, scope="Yarn"),
    TokenCase("yarnrc-npm-auth-ident", lambda r: f"deployer:{password(r)}", YARNRC_IDENT, ".yarnrc.yml", liveness=Liveness.UNVERIFIABLE, scope="Yarn"),
    TokenCase("bunfig-registry-token", token, BUNFIG, "bunfig.toml", liveness=Liveness.UNVERIFIABLE, scope="Bun"),
    TokenCase("pypirc-password", password, PYPIRC, ".pypirc", liveness=Liveness.UNVERIFIABLE, scope="upload credentials"),
    TokenCase("python-index-url-credentials", token, PIP_CONF, "pip.conf", liveness=Liveness.UNVERIFIABLE, scope="Python package index"),
    TokenCase("python-index-url-credentials", token, REQUIREMENTS, "requirements.txt", liveness=Liveness.UNVERIFIABLE, label="requirements"),
    TokenCase("url-credentials", token, REQUIREMENTS_VCS, "requirements.txt", liveness=Liveness.UNVERIFIABLE, scope="host named in the URL"),
    TokenCase("url-credentials", token, PYPROJECT_UV, "pyproject.toml", liveness=Liveness.UNVERIFIABLE, label="uv-index"),
    TokenCase("docker-config-auth", basic("deploy"), DOCKER_CONFIG, "config.json", liveness=Liveness.UNVERIFIABLE, scope="push and pull images"),
    TokenCase("docker-config-auth", basic("robot$ci", password), GITLAB_CI_DOCKER_AUTH, ".gitlab-ci.yml", liveness=Liveness.UNVERIFIABLE, label="gitlab-variable"),
    TokenCase("docker-config-auth", basic("acme+deployer"), DOCKER_CONFIG, "auth.json", liveness=Liveness.UNVERIFIABLE, scope="Quay robot", label="quay-robot"),
    TokenCase("docker-config-auth", ecr_auth(6 * 3600), DOCKER_CONFIG, "config.json", scope="Amazon ECR", label="ecr"),
    TokenCase("docker-config-auth", ecr_auth(-3600), DOCKER_CONFIG, "config.json", liveness=Liveness.EXPIRED, label="ecr-expired"),
    TokenCase("docker-config-identity-token", token, DOCKER_CONFIG_ACR, "config.json", liveness=Liveness.UNVERIFIABLE, scope="identity (refresh) token"),
    TokenCase("docker-config-auth", basic("deploy"), K8S_SECRET, "regcred.yaml", liveness=Liveness.UNVERIFIABLE, encode=dockerconfigjson, label="k8s-dockerconfigjson"),
    TokenCase("docker-login-password", password, DEPLOY_SH, "deploy.sh", liveness=Liveness.UNVERIFIABLE, scope="push and pull images"),
    TokenCase("maven-settings-password", token, SETTINGS_XML, "settings.xml", liveness=Liveness.UNVERIFIABLE, scope="Maven repository"),
    TokenCase("maven-settings-http-header-token", lambda r: token(r, 20), SETTINGS_XML_HEADER, "settings.xml", liveness=Liveness.UNVERIFIABLE, scope="HTTP header"),
    TokenCase("maven-settings-http-header-basic", basic("deployer"), SETTINGS_XML_BASIC, "settings.xml", liveness=Liveness.UNVERIFIABLE, scope="Maven repository"),
    TokenCase("nuget-config-cleartext-password", token, NUGET_CONFIG, "NuGet.Config", liveness=Liveness.UNVERIFIABLE, scope="NuGet feed"),
    TokenCase("nuget-cli-password", token, NUGET_WORKFLOW, "publish.yml", liveness=Liveness.UNVERIFIABLE, scope="NuGet feed"),
    TokenCase("gradle-plugin-portal-secret", token, GRADLE_PROPERTIES, "gradle.properties", liveness=Liveness.UNVERIFIABLE, scope="Gradle Plugin Portal"),
    TokenCase("gradle-maven-publishing-password", token, GRADLE_PROPERTIES_CENTRAL, "gradle.properties", liveness=Liveness.UNVERIFIABLE, scope="Maven Central"),
    TokenCase("gradle-maven-publishing-password", password, GRADLE_ACTIONS, "publish.yml", liveness=Liveness.UNVERIFIABLE, label="env"),
    TokenCase("gradle-signing-password", password, GRADLE_SIGNING, "gradle.properties", liveness=Liveness.UNVERIFIABLE, scope="signing key"),
    TokenCase("gradle-credentials-block-password", password, BUILD_GRADLE_KTS, "build.gradle.kts", liveness=Liveness.UNVERIFIABLE, scope="Maven repository"),
    TokenCase("cargo-registry-token", lambda r: token(r, 32), CARGO_CREDENTIALS, "credentials.toml", liveness=Liveness.UNVERIFIABLE, scope="crates.io"),
    TokenCase("cargo-alt-registry-token", token, CARGO_ALT, "credentials.toml", liveness=Liveness.UNVERIFIABLE, scope="alternative Cargo registry"),
    TokenCase("gem-credentials-api-key", lambda r: _hex(r, 32), GEM_CREDENTIALS, "credentials", liveness=Liveness.UNVERIFIABLE, scope="gems"),
    TokenCase("gem-credentials-host-key", token, GEM_HOST, "credentials", liveness=Liveness.UNVERIFIABLE, scope="gem server"),
    TokenCase("composer-http-basic-password", token, COMPOSER_AUTH, "auth.json", liveness=Liveness.UNVERIFIABLE, scope="Composer repository"),
    TokenCase("composer-github-oauth", lambda r: _hex(r, 40), COMPOSER_GITHUB, "auth.json", liveness=Liveness.UNVERIFIABLE, scope="GitHub"),
    TokenCase("composer-gitlab-token", lambda r: token(r, 20), COMPOSER_GITLAB, "auth.json", liveness=Liveness.UNVERIFIABLE, scope="GitLab"),
    TokenCase("composer-bearer-token", token, COMPOSER_BEARER, "auth.json", liveness=Liveness.UNVERIFIABLE, scope="Composer repository"),
    TokenCase("jfrog-cli-config-secret", token, JFROG_CONF, "jfrog-cli.conf.v6", liveness=Liveness.UNVERIFIABLE, scope="JFrog"),
    TokenCase("terraform-credentials-token", lambda r: token(r, 64), TFRC_JSON, "credentials.tfrc.json", liveness=Liveness.UNVERIFIABLE, scope="Terraform registry"),
    TokenCase("terraform-credentials-token", lambda r: token(r, 64), TERRAFORMRC, ".terraformrc", liveness=Liveness.UNVERIFIABLE, label="hcl"),
    # chained entries (a placeholder first, the credential second)
    TokenCase("composer-http-basic-password", token, COMPOSER_TWO_HOSTS.replace("{secret2}", "${GHE_TOKEN}"), "auth.json", liveness=Liveness.UNVERIFIABLE, label="second-host"),
    TokenCase("composer-github-oauth", lambda r: _hex(r, 40), COMPOSER_TWO_HOSTS.replace("{secret}", "${SATIS_PASSWORD}").replace("{secret2}", "{secret}"), "auth.json", liveness=Liveness.UNVERIFIABLE, label="second-host"),
    TokenCase("composer-gitlab-token", token, COMPOSER_GITLAB_TOKEN_FIRST, "auth.json", liveness=Liveness.UNVERIFIABLE, label="nested-after-flat"),
    TokenCase("jfrog-cli-config-secret", uuid4, JFROG_TWO_SERVERS, "jfrog-cli.conf.v6", liveness=Liveness.UNVERIFIABLE, label="second-server"),
    TokenCase("terraform-credentials-token", token, TFRC_TWO_HOSTS, "credentials.tfrc.json", liveness=Liveness.UNVERIFIABLE, label="second-host"),
    TokenCase("cargo-alt-registry-token", token, CARGO_INLINE, "config.toml", liveness=Liveness.UNVERIFIABLE, label="inline-tables"),
    TokenCase("bunfig-registry-token", password, BUNFIG_TWO_SCOPES, "bunfig.toml", liveness=Liveness.UNVERIFIABLE, label="second-scope"),
]


# ------------------------------------------------------------------ decoys


def _const(text: str) -> Make:
    return lambda rng: text


DECOYS = [
    DecoyCase("npmrc documentation values", _const(
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"
        "//npm.pkg.github.com/:_authToken=${{ secrets.GITHUB_TOKEN }}\n"
        "//registry.example.com/:_authToken=<your-auth-token>\n"
        "//nexus.example.com/repository/npm/:_authToken=NPM_TOKEN\n"
        "//registry.example.com/:_authToken=YOUR_TOKEN_HERE\n"
        "//registry.example.com/:_authToken=\n"
        "_auth=${NPM_AUTH}\n"
        "//pkgs.dev.azure.com/org/_packaging/feed/npm/registry/:_password=[BASE64_ENCODED_PERSONAL_ACCESS_TOKEN]\n"
    ), ".npmrc"),
    DecoyCase("npmrc base64 placeholders", _const(
        f"_auth={b64('username:password')}\n"
        f"//registry.example.com/:_auth={b64('user:')}\n"
        f"//registry.example.com/:_password={b64('changeme')}\n"
        f"//registry.example.com/:_password={b64('${NPM_PASSWORD}')}\n"
    ), ".npmrc"),
    DecoyCase("yarnrc and bunfig variables", _const(
        'npmAuthToken: "${NPM_AUTH_TOKEN:-}"\nnpmAuthIdent: "username:password"\n'
        '[install.registry]\nurl = "https://registry.npmjs.org"\ntoken = "$NPM_TOKEN"\n'
    ), ".yarnrc.yml"),
    DecoyCase("pypirc documentation values", _const(
        "[distutils]\nindex-servers =\n    pypi\n    testpypi\n    a\n    b\n    c\n    d\n    e\n\n"
        "[pypi]\nusername = __token__\npassword = <your PyPI token>\n\n"
        "[testpypi]\nusername = __token__\npassword = ${{ secrets.TEST_PYPI_API_TOKEN }}\n\n"
        "[a]\npassword = %PYPI_PASSWORD%\n\n[b]\npassword = ********\n\n[c]\npassword = [MASKED]\n\n"
        "[d]\npassword = changeme\n\n[e]\npassword =\n"
    ), ".pypirc"),
    DecoyCase("pypirc file paths and env names", _const(
        "[pypi]\nusername = __token__\npassword = /run/secrets/pypi_token\n"
        "[internal]\nrepository = https://pypi.example.com/\npassword = PYPI_PASSWORD\n"
    ), ".pypirc"),
    DecoyCase("index URLs in documentation", _const(
        "index-url = https://user:password@pypi.example.com/simple/\n"
        "PIP_INDEX_URL=https://${PYPI_USER}:${PYPI_PASSWORD}@pypi.example.com/simple/\n"
        "--extra-index-url https://__token__:$GITLAB_TOKEN@gitlab.com/api/v4/projects/1/packages/pypi/simple\n"
        "UV_INDEX_URL=https://<username>:<password>@pypi.example.com/simple/\n"
        "extra-index-url = https://user:@pypi.example.com/simple/\n"
    ), "pip.conf"),
    DecoyCase("URLs with placeholder credentials", _const(
        "git clone https://username:password@github.com/acme/repo.git\n"
        "https://oauth2:${GITLAB_TOKEN}@gitlab.com/acme/repo.git\n"
        "https://x-access-token:${{ secrets.GITHUB_TOKEN }}@github.com/acme/repo\n"
        "http://user:pass@proxy.example.com:3128\n"
        "https://user:****@registry.example.com/\n"
        "http://admin:admin@localhost:8080/\n"
        "https://{{ .Values.user }}:{{ .Values.token }}@registry.example.com/\n"
    ), "README.md"),
    DecoyCase("docker config placeholders", _const(
        '{\n  "auths": {\n'
        f'    "https://index.docker.io/v1/": {{"auth": "{b64("username:password")}"}},\n'
        f'    "ghcr.io": {{"auth": "{b64("USERNAME:${CR_PAT}")}"}},\n'
        f'    "registry.example.com": {{"auth": "{b64("user:")}"}},\n'
        '    "quay.io": {"auth": ""},\n'
        '    "acme.azurecr.io": {"identitytoken": "${ACR_REFRESH_TOKEN}"}\n'
        '  },\n  "credsStore": "desktop"\n}\n'
    ), "config.json"),
    DecoyCase("docker login from CI variables", _const(
        'docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" $CI_REGISTRY\n'
        'echo "$CR_PAT" | docker login ghcr.io -u USERNAME --password-stdin\n'
        "docker login -u $(DOCKER_USER) -p $(DOCKER_PASSWORD)\n"
        "docker login -u user -p ${{ secrets.DOCKERHUB_TOKEN }}\n"
        "docker login -u myuser -p <password> registry.example.com\n"
        "podman login -u x -p xxx quay.io\n"
    ), "deploy.sh"),
    DecoyCase("helm image pull secret template", _const(
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n"
        "  .dockerconfigjson: {{ template \"imagePullSecret\" . }}\n"
        "stringData:\n  password: {{ .Values.token }}\n"
    ), "secret.yaml"),
    DecoyCase("maven settings with variables", _const(
        "<settings>\n  <servers>\n"
        "    <server>\n      <id>central</id>\n      <username>${env.MAVEN_USERNAME}</username>\n"
        "      <password>${env.MAVEN_PASSWORD}</password>\n    </server>\n"
        "    <server>\n      <id>github</id>\n      <password>YOUR_GITHUB_TOKEN</password>\n    </server>\n"
        "    <server>\n      <id>nexus</id>\n      <password>changeme</password>\n    </server>\n"
        "    <server>\n      <id>empty</id>\n      <password></password>\n    </server>\n"
        "    <server>\n      <id>gitlab-maven</id>\n      <configuration>\n        <httpHeaders>\n"
        "          <property>\n            <name>Job-Token</name>\n            <value>${CI_JOB_TOKEN}</value>\n"
        "          </property>\n        </httpHeaders>\n      </configuration>\n    </server>\n"
        "  </servers>\n</settings>\n"
    ), "settings.xml"),
    DecoyCase("maven encrypted password", lambda r: (
        "<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>deployer</username>\n"
        f"      <password>{{{base64.b64encode(r.randbytes(32)).decode()}}}</password>\n"
        "    </server>\n  </servers>\n</settings>\n"
    ), "settings.xml"),
    DecoyCase("nuget config variables", _const(
        "<configuration>\n  <packageSourceCredentials>\n    <a>\n"
        '      <add key="Username" value="az" />\n      <add key="ClearTextPassword" value="%NUGET_PASSWORD%" />\n'
        '    </a>\n    <b>\n      <add key="ClearTextPassword" value="$(System.AccessToken)" />\n'
        '    </b>\n    <c>\n      <add key="ClearTextPassword" value="#{NuGetFeedToken}#" />\n'
        '    </c>\n    <d>\n      <add key="ClearTextPassword" value="C:\\secrets\\nuget-token.txt" />\n'
        "    </d>\n  </packageSourceCredentials>\n</configuration>\n"
    ), "NuGet.Config"),
    DecoyCase("gradle properties placeholders", _const(
        "ossrhPassword=\nmavenCentralPassword=${MAVEN_CENTRAL_PASSWORD}\n"
        "signing.password=<signing key passphrase>\ngradle.publish.secret=GRADLE_PUBLISH_SECRET\n"
        "signingInMemoryKeyPassword=********\n"
    ), "gradle.properties"),
    DecoyCase("gradle publishing from secrets", _const(
        "env:\n  ORG_GRADLE_PROJECT_mavenCentralPassword: ${{ secrets.MAVEN_CENTRAL_PASSWORD }}\n"
        "  ORG_GRADLE_PROJECT_signingInMemoryKeyPassword: ${{ secrets.SIGNING_PASSWORD }}\n"
        "  GRADLE_PUBLISH_SECRET: ${{ secrets.GRADLE_PUBLISH_SECRET }}\n"
    ), "publish.yml"),
    DecoyCase("gradle credentials from properties", _const(
        "publishing {\n  repositories {\n    maven {\n      credentials {\n"
        '        username = System.getenv("MAVEN_USERNAME")\n        password = System.getenv("MAVEN_PASSWORD")\n'
        "      }\n    }\n    maven {\n      credentials {\n        username \"$ossrhUsername\"\n"
        "        password \"$ossrhPassword\"\n      }\n    }\n    maven {\n      credentials(PasswordCredentials::class)\n"
        "    }\n  }\n}\n"
    ), "build.gradle"),
    DecoyCase("cargo config without tokens", _const(
        '[registry]\ndefault = "acme"\nglobal-credential-providers = ["cargo:token"]\n\n'
        '[registries.acme]\nindex = "sparse+https://cargo.example.com/index/"\ntoken = "${ACME_CARGO_TOKEN}"\n'
    ), "config.toml"),
    DecoyCase("gem credentials from ENV", _const(
        ':rubygems_api_key: <%= ENV["RUBYGEMS_API_KEY"] %>\n'
        "https://rubygems.pkg.github.com/OWNER: Bearer ${GITHUB_TOKEN}\n"
        ":github: Bearer <TOKEN>\n"
    ), "credentials"),
    DecoyCase("composer auth documentation", _const(
        '{\n  "http-basic": {"repo.packagist.com": {"username": "token", "password": "<your-token>"}},\n'
        '  "github-oauth": {"github.com": "token"},\n'
        '  "gitlab-token": {"gitlab.com": "$CI_JOB_TOKEN"},\n'
        '  "bearer": {"repo.example.org": "${COMPOSER_BEARER}"}\n}\n'
    ), "auth.json"),
    DecoyCase("jfrog and terraform empty", _const(
        '{"servers": [{"url": "https://acme.jfrog.io/", "user": "ci", "password": "***", "accessToken": "", '
        '"serverId": "acme"}], "version": "6"}\n'
        'credentials "app.terraform.io" {\n  token = "${var.tfe_token}"\n}\n'
        '{"credentials": {"app.terraform.io": {"token": "xxxxxxxxxxxxxx.atlasv1.xxxxxxxxxxxxxxxxxxxx"}}}\n'
    ), "credentials.tfrc.json"),
    DecoyCase("azure pipelines system token", _const(
        "steps:\n"
        "- script: |\n    echo \"//pkgs.dev.azure.com/acme/_packaging/feed/npm/registry/:_authToken=$(System.AccessToken)\" >> .npmrc\n"
        "- script: dotnet nuget add source $(FEED_URL) -n feed -u az -p $(System.AccessToken) --store-password-in-clear-text\n"
        "- script: docker login -u az -p $(System.AccessToken) acme.azurecr.io\n"
    ), "azure-pipelines.yml"),
    DecoyCase("chains stop at the end of their object", lambda r: (
        '{\n  "gitlab-token": {"gitlab.com": "${CI_JOB_TOKEN}"},\n'
        f'  "config": {{"token": "{token(r)}", "password": "{token(r)}"}},\n'
        '  "http-basic": {"repo.example.com": {"username": "u", "password": "${REPO_PASSWORD}"}},\n'
        f'  "extra": {{"host": {{"password": "{token(r)}"}}}},\n'
        '  "credentials": {"app.terraform.io": {"token": "${TFE_TOKEN}"}},\n'
        f'  "other": {{"x": {{"token": "{token(r)}"}}}}\n}}\n'
    ), "composer.json"),
    DecoyCase("toml tables after the registry ones", lambda r: (
        '[registries.acme]\nindex = "sparse+https://cargo.example.com/index/"\n\n'
        f'[net]\ntoken = "{token(r)}"\n\n[install]\nexact = true\n\n[other]\nname = {{ token = "{token(r)}" }}\n'
    ), "config.toml"),
    DecoyCase("values in the wrong place", lambda r: (
        f"[client]\nuser = root\npassword = {token(r)}\n\n"
        f"[tool.other]\ntoken = \"{token(r)}\"\n"
    ), "my.cnf"),
]
