"""Cases for the CI-log rule (ci-masking-leak) and masked-log decoys.

The masking-leak case is a GitHub Actions log that prints a value before it
registers the value as masked; the finding must point at the printed copy.
The decoys are logs where every secret is masked the way each CI system
masks it, which must produce no finding at all.
"""

from __future__ import annotations

import random

from scanner.model import Liveness
from tests.factories import DecoyCase, TokenCase
from tests.tokenfactory import base62, npm_token


def _value(rng: random.Random) -> str:
    while True:
        value = base62(rng, 28)
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


_LEAK_THEN_MASK = (
    "\ufeff2026-03-02T09:00:00.1000000Z ##[group]Run ./deploy.sh\n"
    "2026-03-02T09:00:00.2000000Z \x1b[36;1m./deploy.sh\x1b[0m\n"
    "2026-03-02T09:00:00.3000000Z ##[endgroup]\n"
    "2026-03-02T09:00:01.4000000Z + curl -fsS -H 'X-Deploy-Key: {secret}' https://deploy.example.com/hook\n"
    "2026-03-02T09:00:01.5000000Z ::add-mask::{secret}\n"
    "2026-03-02T09:00:02.6000000Z deploy key: ***\n"
)

CASES = [
    TokenCase(
        "ci-masking-leak",
        _value,
        _LEAK_THEN_MASK,
        "job.log",
        Liveness.UNVERIFIABLE,
        scope="masked",
    ),
]


def _actions_masked(rng: random.Random) -> str:
    return (
        "2026-03-02T09:00:00.1000000Z ##[group]Run npm publish --provenance\n"
        "2026-03-02T09:00:00.2000000Z \x1b[36;1mnpm publish --provenance\x1b[0m\n"
        "2026-03-02T09:00:00.3000000Z env:\n"
        "2026-03-02T09:00:00.4000000Z   NODE_AUTH_TOKEN: ***\n"
        "2026-03-02T09:00:00.5000000Z   NPM_TOKEN: ***\n"
        "2026-03-02T09:00:00.6000000Z ##[endgroup]\n"
        "2026-03-02T09:00:01.7000000Z npm verb config //registry.npmjs.org/:_authToken=***\n"
        "2026-03-02T09:00:01.8000000Z + twine upload -u __token__ -p *** dist/*\n"
        "2026-03-02T09:00:01.9000000Z TWINE_PASSWORD=***\n"
        "2026-03-02T09:00:02.0000000Z + docker login -u acme-bot -p *** ghcr.io\n"
        "2026-03-02T09:00:02.1000000Z GEM_HOST_API_KEY=***\n"
    )


def _gitlab_masked(rng: random.Random) -> str:
    return (
        "\x1b[0KRunning with gitlab-runner 17.5.0 (8b2c1f3e)\x1b[0;m\n"
        'section_start:1772442000:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting "step_script" stage\x1b[0;m\n'
        '\x1b[32;1m$ echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc\x1b[0;m\n'
        "//registry.npmjs.org/:_authToken=[MASKED]\n"
        "\x1b[32;1m$ cargo publish --token [MASKED]\x1b[0;m\n"
        "CARGO_REGISTRY_TOKEN=[MASKED]\n"
        "section_end:1772442010:step_script\r\x1b[0K\n"
    )


def _jenkins_masked(rng: random.Random) -> str:
    return (
        "Started by user admin\n"
        "[Pipeline] withCredentials\n"
        "Masking supported pattern matches of $NEXUS_PASSWORD or $NPM_TOKEN\n"
        "[Pipeline] sh\n"
        "+ curl -u ****:**** https://nexus.example.com/repository/npm-private/\n"
        "+ npm config set //registry.npmjs.org/:_authToken ****\n"
        "+ docker login -u deployer -p **** registry.example.com\n"
    )


def _mask_registered_only(rng: random.Random) -> str:
    value = _value(rng)
    return (
        f"2026-03-02T09:00:00.1000000Z ::add-mask::{value}\n"
        "2026-03-02T09:00:00.2000000Z deploy key: ***\n"
        "2026-03-02T09:00:00.3000000Z Authorization: Bearer ***\n"
    )


def _mask_of_a_variable(rng: random.Random) -> str:
    return (
        '2026-03-02T09:00:00.1000000Z ##[group]Run echo "::add-mask::$NPM_TOKEN"\n'
        '2026-03-02T09:00:00.2000000Z \x1b[36;1mecho "::add-mask::$NPM_TOKEN"\x1b[0m\n'
        "2026-03-02T09:00:00.3000000Z ##[endgroup]\n"
        f"2026-03-02T09:00:00.4000000Z npm_****{npm_token(rng)[-4:]}\n"
    )


DECOYS = [
    DecoyCase("actions masked", _actions_masked, "job.log"),
    DecoyCase("gitlab masked", _gitlab_masked, "job.log"),
    DecoyCase("jenkins masked", _jenkins_masked, "consoleText"),
    DecoyCase("add-mask registration only", _mask_registered_only, "job.log"),
    DecoyCase("add-mask of a variable", _mask_of_a_variable, "job.log"),
]
