import t from 'tap';
import { assertRegistryAllowed } from '../../lib/registry-policy.js';
import type { Resolver } from '../../lib/git-url-policy.js';

const answers: Record<string, string[]> = {
  'registry-1.example.com': ['93.184.216.34'],
  'docker.io': ['44.205.64.79'],
  'rebound.example.com': ['127.0.0.1'],
  'mixed.example.com': ['93.184.216.34', '10.1.2.3'],
  'metadata.example.com': ['169.254.169.254'],
  'v6.example.com': ['::ffff:192.168.1.1'],
  '2130706433': ['127.0.0.1'], // what getaddrinfo makes of a numeric host
  '0x7f.1': ['127.0.0.1'],
};
const resolve: Resolver = async (host) => {
  const found = answers[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const denied = (message: RegExp) => ({ code: 'SLIPWAY_ERR_POLICY_DENIED', statusCode: 403, field: 'image', message });

t.test('registries at loopback, private, link-local or metadata addresses are refused, in any spelling', async (t) => {
  const refused: [string, RegExp][] = [
    ['127.0.0.1:5055/x/y:1', /registry 127\.0\.0\.1:5055, which is a loopback address/],
    ['localhost:5000/x', /a loopback name/],
    ['localhost/x', /a loopback name/],
    ['10.0.0.8:5000/x', /a private address/],
    ['192.168.1.1/x:2', /a private address/],
    ['169.254.169.254/latest', /a cloud metadata address/],
    ['2130706433:5000/x', /resolves to 127\.0\.0\.1, a loopback address/],
    ['0x7f.1:5000/x', /resolves to 127\.0\.0\.1/],
    ['rebound.example.com/team/tool:1', /rebound\.example\.com, which resolves to 127\.0\.0\.1/],
    ['mixed.example.com:443/a', /resolves to 10\.1\.2\.3, a private address/],
    ['metadata.example.com/a', /a cloud metadata address/],
    ['v6.example.com/a', /a private address/],
  ];
  for (const [image, message] of refused) {
    await t.rejects(assertRegistryAllowed(image, [], resolve), denied(message), image);
    await t.rejects(assertRegistryAllowed(image, [], resolve), denied(/SLIPWAY_REGISTRY_ALLOWED_HOSTS can allow a registry host/), `${image} names the setting`);
  }
});

t.test('public registries, Docker Hub and explicitly allowed hosts pass; an unresolvable name is left to the pull', async (t) => {
  for (const image of ['python:3.12', 'library/python', 'registry-1.example.com/team/tool:1', 'nosuch.example.com/x']) {
    await t.resolves(assertRegistryAllowed(image, [], resolve), image);
  }
  await t.resolves(assertRegistryAllowed('127.0.0.1:5055/x', ['127.0.0.1'], resolve), 'a host entry allows every port');
  await t.resolves(assertRegistryAllowed('127.0.0.1:5055/x', ['127.0.0.1:5055'], resolve), 'host:port allows that port');
  await t.rejects(assertRegistryAllowed('127.0.0.1:6000/x', ['127.0.0.1:5055'], resolve), denied(/loopback/), 'and no other');
  await t.resolves(assertRegistryAllowed('rebound.example.com/x', ['REBOUND.example.com'], resolve), 'names compare without case');
});
