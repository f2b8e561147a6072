/** The resolved form and the metadata of ShiftQuant's shift-groups scaling. */

export interface ShiftGroupsScaling {
  readonly kind: "shift-groups";
  readonly groups: number;
}

export interface ShiftGroupsMeta {
  readonly kind: "shift-groups";
  /** The group of every row (channel). */
  readonly channelGroup: Uint8Array;
  /** The scale exponent of every group. */
  readonly groupExponent: Int32Array;
}
