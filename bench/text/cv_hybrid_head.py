#!/usr/bin/env python3
"""Superseded since round 4 by bench/text/train_heads.py (kept to reproduce rounds 2-3 of MODEL.md).

5-fold cross-validation of the hybrid sentiment head's Spanish lexicon weight on the permitted
training data only (VADER sets + es_cx_dev; en_airline_tweets and es_evomsa_tweets are never
read): shipped criterion (mean held-out macro-F1 of es_cx_dev and en_vader_tweets) plus the
held-out macro-F1 and positive/negative AUC of the Spanish es_cx_dev rows, for the weight 1
(previous head), the weight in training and at run time (shipped), and at run time only.

Run: python3 bench/text/cv_hybrid_head.py feats.jsonl emb.f32 0.57  (inputs as for train_hybrid_head.py)
"""
import json, sys, numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import f1_score, roc_auc_score
TRAIN=["en_vader_tweets","en_vader_movie_reviews","en_vader_nyt_editorials","es_cx_dev"]
LABELS={"negative":0,"neutral":1,"positive":2,"none":1}
rows=[json.loads(l) for l in open(sys.argv[1])]
E=np.fromfile(sys.argv[2],dtype='<f4').reshape(len(rows),512)
keep=[i for i,r in enumerate(rows) if r["set"] in TRAIN and r["gold"] in LABELS]
R=[rows[i] for i in keep]; E=E[keep]
y=np.array([LABELS[r["gold"]] for r in R]); w=np.array([20.0 if r["set"]=="es_cx_dev" else 1.0 for r in R])
lex=np.array([r["lex"] for r in R]); q=np.array([float(r["q"]) for r in R]); es=np.array([r["lang"]=="es" for r in R])
sets=np.array([r["set"] for r in R])
def feats(a_train, a_test):
    def f(a):
        s=np.where(es,a,1.0)*lex
        return np.hstack([E,np.c_[s,np.abs(s),q]])
    return f(a_train), f(a_test)
skf=StratifiedKFold(5,shuffle=True,random_state=0)
strat=np.array([f"{s}-{l}" for s,l in zip(sets,y)])
def run(a_train,a_test):
    Xtr,Xte=feats(a_train,a_test); pred=np.zeros(len(y),int); sc=np.zeros(len(y))
    for tr,te in skf.split(Xtr,strat):
        m=LogisticRegression(C=1.0,max_iter=400).fit(Xtr[tr],y[tr],sample_weight=w[tr])
        p=m.predict_proba(Xte[te]); pred[te]=p.argmax(1); sc[te]=p[:,2]-p[:,0]
    out={}
    for name,mask in [("cx",sets=="es_cx_dev"),("cx_es",(sets=="es_cx_dev")&es),("vt",sets=="en_vader_tweets")]:
        out[name]=f1_score(y[mask],pred[mask],average="macro")
    m=(sets=="es_cx_dev")&es&(y!=1); out["cx_es_auc"]=roc_auc_score(y[m]==2,sc[m])
    out["crit"]=(out["cx"]+out["vt"])/2
    return out
for a_tr,a_te in [(1,1),(float(sys.argv[3]),float(sys.argv[3])),(1,float(sys.argv[3]))]:
    o=run(a_tr,a_te); print(f"alpha train={a_tr} infer={a_te}: "+" ".join(f"{k}={v:.3f}" for k,v in o.items()),flush=True)
