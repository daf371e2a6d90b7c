import { designMas, type DesignRequest, type DesignResult } from '../core/designer/designer';
import { assignBackbones, type PluginAssignRequest, type PluginAssignResult } from '../core/designer/plugin';
import { parsePoolProfile, type PoolProfile } from '../core/designer/pool-profile';
import { TrainedDesignerSchema, type TrainedDesigner } from '../core/designer/trained-designer';
import { embedderFromConfig, type PreparedEmbedder } from './embedders';
import { createHighsMatchingSolver } from './matching-solver';

/**
 * What an activity (or a campaign planner) needs to call the pure designer synchronously: the
 * HiGHS solver loaded and the designer's embedder built (remote embedders prefetch the texts they
 * will be asked about through `prepare`). Load once per worker, then call `design`/`assign` per query.
 */
export interface DesignerRuntime {
  readonly designer: TrainedDesigner;
  readonly profile: PoolProfile;
  readonly embedder: PreparedEmbedder;
  /** designMas with this runtime's designer, profile, embedder and solver. */
  design(req: Omit<DesignRequest, 'designer' | 'profile' | 'embedder' | 'solver'>): DesignResult;
  /** Plug-in backbone re-assignment of an existing MAS (topology kept). */
  assign(req: Omit<PluginAssignRequest, 'profile' | 'solver'>): PluginAssignResult;
}

export async function loadDesignerRuntime(
  designerJson: unknown,
  profileJson: unknown,
  prepareTexts: readonly string[] = [],
): Promise<DesignerRuntime> {
  const designer = TrainedDesignerSchema.parse(designerJson);
  const profile = parsePoolProfile(profileJson);
  const solver = await createHighsMatchingSolver();
  const embedder = embedderFromConfig(designer.embedder);
  await embedder.prepare(prepareTexts);
  return {
    designer,
    profile,
    embedder,
    design: (req) => designMas({ ...req, designer, profile, embedder, solver }),
    assign: (req) => assignBackbones({ ...req, hyper: { ...designer.hyper, ...(req.hyper ?? {}) }, profile, solver }),
  };
}

/** One-shot activity: design a MAS for one query (loads the solver once per process). */
export async function designMasActivity(input: {
  designer: TrainedDesigner;
  profile: PoolProfile;
  request: Omit<DesignRequest, 'designer' | 'profile' | 'embedder' | 'solver'>;
}): Promise<DesignResult> {
  const rt = await loadDesignerRuntime(input.designer, input.profile, [
    input.request.query,
    ...input.request.roles.map((r) => r.prompt),
    ...(typeof input.request.decisionRole === 'string' ? [] : [input.request.decisionRole.prompt]),
  ]);
  return rt.design(input.request);
}
