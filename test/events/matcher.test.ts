/**
 * The local bus's pattern matcher against EventBridge's documented behaviour: the cases follow the examples of
 * the AWS EventBridge user guide ("Content filtering in event patterns", "Arrays in event patterns", "Matching
 * null values and empty strings") and of aws/event-ruler's README, rewritten here.
 */
import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, matchesPattern, validatePattern } from '../../local/eventbus.ts';
import type { EventPattern } from '../../shared/events/patterns.ts';

/** The EC2 example event of the guide, with the numeric and IP fields its filter examples use. */
const ec2 = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const withDetail = (detail: Record<string, unknown>) => ({ ...ec2, detail });

type Case = [string, EventPattern, unknown, boolean];

function check(cases: Case[]) {
  it.each(cases)('%s', (_name, pattern, event, expected) => {
    // Prepare: every pattern here must be one EventBridge accepts.
    validatePattern(pattern);
    // Act + Assess
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
}

describe('exact values, nesting, AND/OR', () => {
  check([
    ['source matches', { source: ['aws.ec2'] }, ec2, true],
    ['source is case-sensitive', { source: ['AWS.EC2'] }, ec2, false],
    ['one of several values (OR)', { detail: { state: ['initializing', 'running'] } }, ec2, true],
    ['none of the values', { detail: { state: ['stopped', 'pending'] } }, ec2, false],
    [
      'all fields must match (AND)',
      { 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['running'], 'instance-id': ['i-000000aaaaaa00000'] } },
      ec2,
      true,
    ],
    ['one field failing fails the AND', { source: ['aws.ec2'], detail: { state: ['stopped'] } }, ec2, false],
    ['a field missing from the event does not match', { detail: { zone: ['a'] } }, ec2, false],
    ['a nested pattern on a leaf does not match', { source: { x: ['aws.ec2'] } }, ec2, false],
    ['numbers match numbers', { detail: { 'c-count': [5] } }, ec2, true],
    ['a string never equals a number', { detail: { 'c-count': ['5'] } }, ec2, false],
    ['booleans', { detail: { ok: [true] } }, withDetail({ ok: true }), true],
    ['booleans are not strings', { detail: { ok: ['true'] } }, withDetail({ ok: true }), false],
    ['fields not in the pattern are ignored', { 'detail-type': ['EC2 Instance State-change Notification'] }, ec2, true],
  ]);
});

describe('null and empty values', () => {
  const event = withDetail({ eventVersion: '', responseElements: null });
  check([
    ['null matches null', { detail: { responseElements: [null] } }, event, true],
    ['null does not match a missing field', { detail: { missing: [null] } }, event, false],
    ['empty string matches empty string', { detail: { eventVersion: [''] } }, event, true],
    ['empty string is not null', { detail: { responseElements: [''] } }, event, false],
  ]);
});

describe('arrays', () => {
  const event = {
    ...ec2,
    resources: [
      'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
      'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
    ],
  };
  const employees = {
    detail: {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    },
  };
  check([
    ['an event array matches when any element matches', { resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] }, event, true],
    [
      'the pattern array and the event array must intersect',
      { resources: ['arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f', 'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f'] },
      event,
      true,
    ],
    ['no intersection, no match', { resources: ['arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f'] }, event, false],
    ['a filter matching some element', { resources: [{ suffix: ':444455556666:instance/i-b188560f' }] }, event, true],
    ['a filter matching no element', { resources: [{ suffix: '/i-00000000' }] }, event, false],
    ['prefix against any element', { resources: [{ prefix: 'arn:aws:ec2:us-east-1:4444' }] }, event, true],
    ['objects in arrays: a field of one element', { detail: { employees: { firstName: ['Anna'] } } }, employees, true],
    ['two fields of the same element', { detail: { employees: { firstName: ['Anna'], lastName: ['Smith'] } } }, employees, true],
    ['two fields of different elements do not match', { detail: { employees: { firstName: ['Anna'], lastName: ['Jones'] } } }, employees, false],
    ['nested arrays are flattened', { detail: { tags: ['b'] } }, withDetail({ tags: [['a'], ['b', 'c']] }), true],
    ['an empty array has no value', { detail: { tags: [{ exists: true }] } }, withDetail({ tags: [] }), false],
  ]);
});

describe('prefix, suffix, equals-ignore-case, wildcard', () => {
  const files = withDetail({ FileName: 'photo.PNG', service: 'EventBridge', path: 'dir/sub/file.png', literal: 'a*b', state: 'running' });
  check([
    ['prefix', { time: [{ prefix: '2017-10-02' }] }, ec2, true],
    ['prefix mismatch', { time: [{ prefix: '2017-10-03' }] }, ec2, false],
    ['prefix only applies to strings', { detail: { 'c-count': [{ prefix: '5' }] } }, ec2, false],
    ['prefix ignoring case', { detail: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] } }, files, true],
    ['prefix is case-sensitive otherwise', { detail: { service: [{ prefix: 'eventb' }] } }, files, false],
    ['suffix', { source: [{ suffix: 'ec2' }] }, ec2, true],
    ['suffix is case-sensitive', { detail: { FileName: [{ suffix: '.png' }] } }, files, false],
    ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, files, true],
    ['equals-ignore-case', { source: [{ 'equals-ignore-case': 'AWS.EC2' }] }, ec2, true],
    ['equals-ignore-case is still equality', { source: [{ 'equals-ignore-case': 'AWS.EC' }] }, ec2, false],
    ['wildcard in the middle', { detail: { path: [{ wildcard: 'dir/*.png' }] } }, files, true],
    ['wildcard spans slashes', { detail: { path: [{ wildcard: 'dir/*' }] } }, files, true],
    ['wildcard must match the whole value', { detail: { path: [{ wildcard: 'sub/*.png' }] } }, files, false],
    ['several wildcards', { 'detail-type': [{ wildcard: 'EC2*State*Notification' }] }, ec2, true],
    ['wildcard matches nothing for "*"-less text that differs', { detail: { state: [{ wildcard: 'runnin' }] } }, files, false],
    ['escaped asterisk is literal', { detail: { literal: [{ wildcard: 'a\\*b' }] } }, files, true],
    ['escaped asterisk does not match other text', { detail: { literal: [{ wildcard: 'a\\*b' }] } }, withDetail({ literal: 'axb' }), false],
    ['regex characters are literal', { detail: { path: [{ wildcard: 'dir/sub/file?png' }] } }, files, false],
  ]);
});

describe('anything-but', () => {
  check([
    ['a string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2, true],
    ['the excluded string', { detail: { state: [{ 'anything-but': 'running' }] } }, ec2, false],
    ['a number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, ec2, true],
    ['the excluded number', { detail: { 'c-count': [{ 'anything-but': 5 }] } }, ec2, false],
    ['a list of strings', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, ec2, true],
    ['a list holding the value', { detail: { state: [{ 'anything-but': ['stopped', 'running'] }] } }, ec2, false],
    ['a list of numbers', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, ec2, true],
    ['a prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, ec2, true],
    ['the excluded prefix', { detail: { state: [{ 'anything-but': { prefix: 'run' } }] } }, ec2, false],
    ['a suffix', { detail: { state: [{ 'anything-but': { suffix: 'ing' } }] } }, ec2, false],
    ['ignoring case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'RUNNING' } }] } }, ec2, false],
    ['ignoring case, a list', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } }, ec2, true],
    ['a wildcard', { detail: { path: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, withDetail({ path: '/usr/lib/x' }), false],
    ['outside the wildcard', { detail: { path: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, withDetail({ path: '/usr/bin/x' }), true],
    ['a missing field does not match', { detail: { zone: [{ 'anything-but': 'a' }] } }, ec2, false],
    ['null is a value other than the excluded ones', { detail: { foo: [{ 'anything-but': ['baz'] }] } }, withDetail({ foo: null }), true],
    ['an array matches when some element is not excluded', { resources: [{ 'anything-but': 'x' }] }, ec2, true],
  ]);
});

describe('numeric', () => {
  check([
    ['a range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, ec2, true],
    ['the open end of a range', { detail: { 'c-count': [{ numeric: ['>', 0, '<', 5] }] } }, ec2, false],
    ['below', { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, ec2, true],
    ['equals, in any notation', { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, ec2, true],
    ['at least', { detail: { 'c-count': [{ numeric: ['>=', 5] }] } }, ec2, true],
    ['above, failing', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, ec2, false],
    ['only JSON numbers', { detail: { 'c-count': [{ numeric: ['>', 0] }] } }, withDetail({ 'c-count': '5' }), false],
    [
      'the guide\'s complex example',
      {
        time: [{ prefix: '2017-10-02' }],
        detail: {
          state: [{ 'anything-but': 'initializing' }],
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ 'anything-but': [100, 200, 300] }],
        },
      },
      ec2,
      true,
    ],
  ]);
});

describe('cidr', () => {
  check([
    ['inside an IPv4 block', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, ec2, true],
    ['outside it', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, ec2, false],
    ['IPv6', { detail: { ip: [{ cidr: '2001:db8::/32' }] } }, withDetail({ ip: '2001:db8:0:1::7' }), true],
    ['not an address', { detail: { state: [{ cidr: '10.0.0.0/8' }] } }, ec2, false],
  ]);
});

describe('exists', () => {
  const intermediate = withDetail({ state: 'running', 'c-count': { c1: 100 } });
  check([
    ['present', { detail: { state: [{ exists: true }] } }, ec2, true],
    ['absent', { detail: { zone: [{ exists: false }] } }, ec2, true],
    ['present, so exists:false fails', { detail: { state: [{ exists: false }] } }, ec2, false],
    ['absent, so exists:true fails', { detail: { zone: [{ exists: true }] } }, ec2, false],
    ['null is a value', { detail: { n: [{ exists: true }] } }, withDetail({ n: null }), true],
    ['an object is not a leaf: exists:false matches', { detail: { 'c-count': [{ exists: false }] } }, intermediate, true],
    ['an object is not a leaf: exists:true fails', { detail: { 'c-count': [{ exists: true }] } }, intermediate, false],
    ['the parent is missing too', { detail: { a: { b: [{ exists: false }] } } }, ec2, true],
    [
      'absence is checked across array elements',
      { detail: { items: { a: [{ exists: false }], b: ['x'] } } },
      withDetail({ items: [{ a: 1, b: 'y' }, { b: 'x' }] }),
      false,
    ],
    ['exists OR a value', { detail: { zone: [{ exists: false }, 'a'] } }, withDetail({ zone: 'a' }), true],
  ]);
});

describe('$or', () => {
  const cw = { source: 'aws.cloudwatch', metricName: 'NetworkIn', namespace: 'AWS/EC2', metricType: 'MetricType', scope: 'Service', detail: { source: 'x' } };
  check([
    [
      'source AND (metricName OR namespace)',
      { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] },
      cw,
      true,
    ],
    ['no alternative matches', { $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/ES'] }] }, cw, false],
    [
      'an alternative with an AND inside',
      { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2'] }] },
      cw,
      true,
    ],
    [
      'the AND inside an alternative must hold entirely',
      { $or: [{ metricName: ['CPUUtilization'] }, { metricType: ['MetricType'], namespace: ['AWS/ES'] }] },
      cw,
      false,
    ],
    [
      'nested $or inside an alternative',
      {
        source: ['aws.cloudwatch'],
        $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { scope: ['Service'] }] }],
      },
      cw,
      true,
    ],
    [
      'parallel $or at two levels',
      { $or: [{ metricName: ['NetworkIn'] }, { namespace: ['AWS/ES'] }], detail: { $or: [{ source: ['x'] }, { 'detail-type': ['y'] }] } },
      cw,
      true,
    ],
    ['$or with one alternative is a field name', { $or: [{ exists: false }] }, cw, true],
  ]);
});

describe('validatePattern refuses what PutRule refuses', () => {
  it.each([
    ['a bare value', { source: 'aws.ec2' }],
    ['an empty pattern', {}],
    ['an empty nested object', { detail: {} }],
    ['an empty list', { source: [] }],
    ['an unknown filter', { source: [{ contains: 'ec2' }] }],
    ['two filters in one object', { source: [{ prefix: 'a', suffix: 'b' }] }],
    ['a list inside a list', { source: [['a']] }],
    ['consecutive wildcards', { source: [{ wildcard: 'a**b' }] }],
    ['an escape of another character', { source: [{ wildcard: 'a\\b' }] }],
    ['numeric without a number', { detail: { n: [{ numeric: ['>', '5'] }] } }],
    ['numeric upside down', { detail: { n: [{ numeric: ['<', 5, '>', 0] }] } }],
    ['numeric empty range', { detail: { n: [{ numeric: ['>', 5, '<', 5] }] } }],
    ['anything-but mixing types', { source: [{ 'anything-but': ['a', 1] }] }],
    ['anything-but with an unknown filter', { source: [{ 'anything-but': { numeric: ['>', 1] } }] }],
    ['exists with a string', { source: [{ exists: 'yes' }] }],
    ['a bad cidr', { ip: [{ cidr: '10.0.0.0/33' }] }],
    ['not an object', ['a']],
  ])('%s', (_name, pattern) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidEventPatternError);
  });
});
