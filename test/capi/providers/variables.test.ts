// biome-ignore-all lint/suspicious/noTemplateCurlyInString: components files and their tests are full of literal ${VAR} placeholders
/** Variable substitution in components files, with clusterctl's semantics (drone/envsubst dialect). */
import { describe, expect, it } from 'vitest';
import { ProviderComponentsInvalidError, ProviderVariablesMissingError, substituteVariables, templateVariables } from '../../../shared/capi/providers/index.ts';

describe('substituteVariables', () => {
  it('substitutes values, and defaults for unset or empty variables', () => {
    // Prepare
    const text = 'a=${A} b=${B:=two} c=${C:-three} d=${D=four} e=${E:=five}';
    // Act
    const out = substituteVariables(text, { A: '1', B: 'bee', E: '' });
    // Assess
    expect(out).toBe('a=1 b=bee c=three d=four e=five');
  });

  it('evaluates variables nested in a default', () => {
    expect(substituteVariables('${X:=pre-${Y}-post}', { Y: 'y' })).toBe('pre-y-post');
    expect(substituteVariables('${X:=${Y:=deep}}', {})).toBe('deep');
  });

  it('lists every missing variable at once, sorted, naming the source', () => {
    // Act
    const act = () => substituteVariables('${ZED} ${ALPHA} ${WITH:=default} ${ZED}', {}, 'core-components.yaml');
    // Assess
    expect(act).toThrow(ProviderVariablesMissingError);
    expect(act).toThrow('core-components.yaml: no value for variables ALPHA, ZED');
    try {
      act();
    } catch (err) {
      expect((err as ProviderVariablesMissingError).missing).toEqual(['ALPHA', 'ZED']);
    }
  });

  it('decides "missing" on the first use, as clusterctl: an empty default counts as none', () => {
    expect(substituteVariables('${A:=x} ${A}', {})).toBe('x ');
    expect(() => substituteVariables('${A} ${A:=x}', {})).toThrow(ProviderVariablesMissingError);
    expect(() => substituteVariables('${A:=}', {})).toThrow(ProviderVariablesMissingError);
    expect(substituteVariables('${A:=}', { A: '' })).toBe('');
  });

  it("replaces a prefix as CAPA's ServiceAccount annotation needs, empty without a value", () => {
    // Prepare
    const text = 'annotations:\n  ${ROLE/#arn/eks.amazonaws.com/role-arn: arn}\n';
    // Act
    const withRole = substituteVariables(text, { ROLE: 'arn:aws:iam::123456789012:role/capa' });
    const without = substituteVariables(text, {});
    // Assess
    expect(withRole).toBe('annotations:\n  eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/capa\n');
    expect(without).toBe('annotations:\n  \n');
  });

  it('replaces first, all, suffix, changes case and measures length', () => {
    const values = { V: 'a-b-c', W: 'mixed Case' };
    expect(substituteVariables('${V/-/+}|${V//-/+}|${V/%c/z}|${V/#x/y}', values)).toBe('a+b-c|a+b+c|a-b-z|a-b-c');
    expect(substituteVariables('${W^}|${W^^}|${W,}|${W,,}|${#V}', values)).toBe('Mixed Case|MIXED CASE|mixed Case|mixed case|5');
    expect(substituteVariables('${V/\\//x}', { V: 'a/b' })).toBe('axb');
  });

  it('keeps $$ as a literal dollar and accepts blanks inside the braces', () => {
    expect(substituteVariables('cost: $$5, literal: $${HOME}, ${ NAME }, ${NAME }, $PLAIN', { NAME: 'n' })).toBe('cost: $5, literal: ${HOME}, n, n, $PLAIN');
  });

  it('refuses malformed and unsupported expressions with the line', () => {
    expect(() => substituteVariables('a\nb ${OPEN', {})).toThrow(ProviderComponentsInvalidError);
    expect(() => substituteVariables('a\nb ${OPEN', {})).toThrow('line 2: missing closing brace');
    expect(() => substituteVariables('${V:1:2}', { V: 'abc' })).toThrow('not supported');
    expect(() => substituteVariables('${V##*/}', { V: 'abc' })).toThrow('not supported');
    expect(() => substituteVariables('${}', {})).toThrow('no variable name');
    expect(() => substituteVariables('${V/a}', { V: 'a' })).toThrow('incomplete replacement');
  });
});

describe('templateVariables', () => {
  it('lists variables in order of first use with whether that use has a default', () => {
    expect(templateVariables('${B:=1} ${A} ${B} ${C/#x/y} ${A:=z}')).toEqual([
      { name: 'B', hasDefault: true },
      { name: 'A', hasDefault: false },
      { name: 'C', hasDefault: true },
    ]);
  });
});
