import { describe, expect, it } from 'vitest';
import { matchesGlob, matchesVersionGlob } from '../../shared/policy/engine.ts';

describe('matchesGlob (instance types)', () => {
  it.each([
    ['m6i.*', 'm6i.large', true],
    ['m6i.*', 'm6i.16xlarge', true],
    ['m6i.*', 'm6id.large', false],
    ['m6i.*', 'xm6i.large', false],
    ['m6i.large', 'm6i.large', true],
    ['m6i.large', 'm6i.large2', false],
    ['m6i.large', 'm6iXlarge', false],
    ['*', 'anything.at-all', true],
    ['*', '', true],
    ['', '', true],
    ['', 'm6i.large', false],
    ['*.metal', 'm7i.metal', true],
    ['*.metal', 'm7i.metal-24xl', false],
    ['*large', 'm6i.xlarge', true],
    ['m?i.large', 'm7i.large', true],
    ['m?i.large', 'mi.large', false],
    ['m?.large', 'm6i.large', false],
    ['?', '', false],
    ['m*i.*', 'm6i.large', true],
    ['m*i.*', 'm7gi.xlarge', true],
    ['m*i.*', 'm6g.large', false],
    ['a**b', 'ab', true],
    ['*a*b', 'aaab', true],
    ['*a*b', 'aaba', false],
    ['c?.*large', 'c5.2xlarge', true],
  ])('%j vs %j → %s', (glob, value, expected) => {
    expect(matchesGlob(glob, value)).toBe(expected);
  });

  it('is case-sensitive', () => {
    expect(matchesGlob('m6i.*', 'M6I.large')).toBe(false);
    expect(matchesGlob('M6I.*', 'm6i.large')).toBe(false);
  });

  it('treats every character other than * and ? literally (no regular-expression leaks)', () => {
    expect(matchesGlob('a+b', 'aab')).toBe(false);
    expect(matchesGlob('a+b', 'a+b')).toBe(true);
    expect(matchesGlob('m6i.(large|xlarge)', 'm6i.large')).toBe(false);
    expect(matchesGlob('[mc]6i.*', 'm6i.large')).toBe(false);
  });

  it('stays fast on a hostile pattern that would make a backtracking regex explode', () => {
    // Prepare
    const glob = `${'*a'.repeat(30)}*b`;
    const value = 'a'.repeat(5000);
    // Act
    const result = matchesGlob(glob, value);
    // Assess (correctness only; speed is what makes this return at all within the test timeout)
    expect(result).toBe(false);
    expect(matchesGlob(glob, `${value}b`)).toBe(true);
  });
});

describe('matchesVersionGlob (Kubernetes versions)', () => {
  it.each([
    ['v1.31.*', 'v1.31.0', true],
    ['v1.31.*', 'v1.31.12', true],
    ['v1.31.*', '1.31.4', true],
    ['1.31.*', 'v1.31.4', true],
    ['v1.31.*', 'v1.310.1', false],
    ['v1.31.*', 'v1.32.0', false],
    ['1.31.x', 'v1.31.7', true],
    ['v1.31.X', 'v1.31.7', true],
    ['1.x', 'v1.32.1', true],
    ['1.31.x', 'v1.32.0', false],
    ['v1.31', 'v1.31.4', true],
    ['v1.31', 'v1.310.0', false],
    ['v1.3', 'v1.31.4', false],
    ['v1.*', 'v1.32.0', true],
    ['v1.*', 'v2.0.0', false],
    ['v1.31.4', 'v1.31.4', true],
    ['v1.31.4', 'v1.31.40', false],
    ['v1.3?.*', 'v1.32.1', true],
    ['v1.3?.*', 'v1.4.0', false],
    ['*', 'v1.31.4', true],
  ])('%j vs %j → %s', (glob, version, expected) => {
    expect(matchesVersionGlob(glob, version)).toBe(expected);
  });
});
