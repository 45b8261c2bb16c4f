from tests.console.conftest import Console


async def test_pages_open(console: Console) -> None:
    for path in ("/console/usage", "/console/protection", "/console/audit", "/console/policy",
                 "/console/audit/record/1"):
        response = await console.client.get(path)
        assert response.status == 200, (path, (await response.text())[:3000])
