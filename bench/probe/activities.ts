// The probe's only activity: returns at once, so all measured time is orchestration.
export async function noop(n: number): Promise<number> {
  return n + 1;
}
