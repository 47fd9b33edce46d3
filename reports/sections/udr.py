"""Unsupervised model selection (UDR, Duan et al. 2020): each replicated configuration's
agreement between its seeds, with the spread of its pair scores. 1 means every seed found the
same informative latents up to permutation and sign; near 0, each seed a different rotation."""

from reports import data as d
from reports.figures import fmt


def build(sweep: d.Sweep) -> dict:
    record = sweep.tradeoffs("udr")
    if not record:
        return {"applies": False, "reason": "no configuration has two or more finished seeds with posterior codes "
                                            "(--replicates R with R >= 2)", "selection": sweep.selection}
    rows = [{"digest": digest, "trial_id": r["trial_id"], "udr": fmt(r["udr"]), "score": r["udr"],
             "spread": f"[{fmt(r['udr_pair_min'])}, {fmt(r['udr_pair_max'])}]", "seeds": r["seeds"],
             "informative": ", ".join(map(str, r["informative"])),
             "chosen": sweep.selection == "udr" and digest == sweep.chosen_config} for digest, r in record.items()]
    rows.sort(key=lambda r: -r["score"])
    return {"applies": True, "rows": rows, "selection": sweep.selection}
