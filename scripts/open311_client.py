"""Check shezhi's Open311 GeoReport v2 interface with the `georeport` client from PyPI.

Usage: open311_client.py ROOT API_KEY   (ROOT like http://127.0.0.1:8080/open311/v2)

For JSON and XML in turn: the service list and a definition through the client, a request
raised form-encoded as the spec describes, then read back by id and in a filtered list in
both formats, and the spec's error body for a bad key. Exits 1 listing every failure.
"""

import sys

import requests
import xmltodict
from georeport import GeoReport

JURISDICTION = '510100000000'
SERVICE = 'order.vendor'
# A door in 锦江区, Chengdu.
LAT, LONG = 30.6465, 104.0835

failures = []


def check(what, ok, detail=''):
    print(('ok    ' if ok else 'FAIL  ') + what + ('' if ok else f': {detail}'))
    if not ok:
        failures.append(what)


def as_list(value):
    """xmltodict gives one element as a dict and several as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse(response, fmt):
    if fmt == 'json':
        return response.json()
    return xmltodict.parse(response.content)


def check_request(what, r, rid):
    check(f'{what}: service_request_id', r.get('service_request_id') == rid, r)
    check(f'{what}: status open', r.get('status') == 'open', r)
    check(f'{what}: service_code', r.get('service_code') == SERVICE, r)
    # Public positions are rounded to 0.001° (about 100 m), so as not to point at a door.
    check(f'{what}: lat/long near the report', abs(float(r.get('lat', 0)) - LAT) <= 6e-4
          and abs(float(r.get('long', 0)) - LONG) <= 6e-4, r)
    check(f'{what}: no reporter address', '东大街' not in str(r.get('address', '')), r)
    check(f'{what}: requested_datetime in China time',
          str(r.get('requested_datetime', '')).endswith('+08:00'), r)


def run(root, key, fmt):
    client = GeoReport(root, jurisdiction=JURISDICTION, api_key=key, output_format=fmt)

    services = as_list(client.get_service_list())
    codes = [s.get('service_code') for s in services]
    check(f'{fmt} services: not empty', len(services) > 0, services)
    check(f'{fmt} services: has {SERVICE}', SERVICE in codes, codes[:10])
    vendor = next((s for s in services if s.get('service_code') == SERVICE), {})
    check(f'{fmt} services: metadata false', vendor.get('metadata') in (False, 'false'), vendor)
    check(f'{fmt} services: type realtime', vendor.get('type') == 'realtime', vendor)

    definition = client.get_service_definition(SERVICE)
    check(f'{fmt} definition: service_code', definition.get('service_code') == SERVICE,
          definition)
    check(f'{fmt} definition: no attributes', not definition.get('attributes'), definition)

    form = {
        'api_key': key,
        'jurisdiction_id': JURISDICTION,
        'service_code': SERVICE,
        'lat': LAT,
        'long': LONG,
        'address_string': '锦江区东大街 8 号',
        'description': f'门口占道摆摊，堵住消防通道（{fmt}）',
        'first_name': '三',
        'last_name': '张',
        'phone': '13800138000',
    }
    posted = requests.post(f'{root}/requests.{fmt}', data=form)
    check(f'{fmt} POST requests: 2xx', posted.ok, f'{posted.status_code} {posted.text}')
    if not posted.ok:
        return
    body = parse(posted, fmt)
    created = body[0] if fmt == 'json' else body['service_requests']['request']
    rid = created.get('service_request_id')
    check(f'{fmt} POST requests: service_request_id', bool(rid), created)

    for read in ('json', 'xml'):
        reader = GeoReport(root, jurisdiction=JURISDICTION, output_format=read)
        check_request(f'{fmt}→{read} get_service_request', reader.get_service_request(rid), rid)
        listed = as_list(reader.get_service_requests(service_code=SERVICE))
        mine = [r for r in listed if r.get('service_request_id') == rid]
        check(f'{fmt}→{read} get_service_requests: listed', len(mine) == 1,
              [r.get('service_request_id') for r in listed])
        if mine:
            check_request(f'{fmt}→{read} get_service_requests', mine[0], rid)

    refused = requests.post(f'{root}/requests.{fmt}', data={**form, 'api_key': 'wrong'})
    error = parse(refused, fmt)
    error = error[0] if fmt == 'json' else error['errors']['error']
    check(f'{fmt} bad api_key: 403 in the spec\'s error shape',
          refused.status_code == 403 and str(error.get('code')) == '403'
          and bool(error.get('description')), f'{refused.status_code} {refused.text}')


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    root, key = sys.argv[1].rstrip('/'), sys.argv[2]
    for fmt in ('json', 'xml'):
        try:
            run(root, key, fmt)
        except Exception as e:  # noqa: BLE001 (any failure of the client is a finding)
            detail = getattr(getattr(e, 'response', None), 'text', '')
            check(f'{fmt}: no exception', False, f'{type(e).__name__}: {e} {detail}')
    if failures:
        print(f'{len(failures)} Open311 check(s) failed', file=sys.stderr)
        return 1
    print('Open311 client checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
