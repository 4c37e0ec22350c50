/**
 * `@Transform(toBoolean)` for a true/false variable. It reads the raw string:
 * implicit conversion would already have turned any non-empty string,
 * 'false' included, into true. Anything else is left for `@IsBoolean` to refuse.
 */
export const toBoolean = ({ obj, key }: { obj: Record<string, unknown>; key: string }): unknown => {
  const raw = obj[key];
  return raw === 'true' || raw === true ? true : raw === 'false' || raw === false ? false : raw;
};
