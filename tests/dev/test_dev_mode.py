"""`pylon dev`, the quick start: what it prints must work, and the wallet it writes must be a real one."""

import json
import urllib.request

from bittensor_wallet import Wallet


def get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_the_printed_url_and_token_serve_neurons_of_the_dev_identity_subnet(pylon):
    status, body = get(
        f"{pylon.url}/api/v1/subnet/{pylon.identity_netuid}/block/latest/neurons",
        pylon.open_access_token,
    )
    assert status == 200
    hotkeys = set(body["neurons"])
    assert pylon.identity_hotkey in hotkeys


def test_the_dev_hotkey_file_is_a_standard_bittensor_keyfile(pylon):
    wallet = Wallet(
        name="pylon-dev", hotkey="validator", path=str(pylon.data_dir / "wallets")
    )
    keypair = wallet.get_hotkey()
    assert keypair.ss58_address == pylon.identity_hotkey
    # The key can sign, and the signature verifies against the published account.
    signature = keypair.sign(b"pylon")
    assert keypair.verify(b"pylon", signature)
