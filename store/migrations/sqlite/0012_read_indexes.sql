-- Covering indexes for the reads behind readiness and the dashboard on
-- large registers: the assessed, owned risks (which assets a risk
-- assessment covers) and the risks awaiting treatment or acceptance are
-- found from the index alone, without reading the wide risk rows.
CREATE INDEX risks_org_assessed ON risks (org_id, owner_id, inherent_score, id);
CREATE INDEX risks_org_acceptance ON risks (org_id, accepted_at, residual_score, inherent_score, id, ref);
