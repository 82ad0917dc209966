import time
from tests.conftest import create_company, create_mission
def test_speed(client, alice):
    t=time.perf_counter()
    for i in range(50):
        create_company(client, "/partners/v1", alice)
    print("50 companies", time.perf_counter()-t)
    t=time.perf_counter()
    for i in range(50):
        client.get("/partners/v1/companies", headers=alice.headers)
    print("50 lists", time.perf_counter()-t)
