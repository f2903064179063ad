"""Builders for the register tests: a full processing activity, requests, breaches."""

from __future__ import annotations

from typing import Any

from patrimoine.protection.register.service import ActivityInput


def full_activity(organisation_id: int, **fields: Any) -> ActivityInput:
    """An entry with every field of the CNIL model filled."""
    values: dict[str, Any] = {
        "organisation_id": organisation_id,
        "reference": "T-0001",
        "name": "Gestion des dossiers d'aide sociale facultative",
        "status": "active",
        "department": "Action sociale",
        "description": "Instruction des demandes d'aides facultatives du CCAS.",
        "controller_representative": "Le président du CCAS",
        "joint_controllers": [{"name": "Département du Loiret", "contact": "dpo@loiret.example"}],
        "processors": [
            {"name": "Éditeur Solis", "contract_reference": "MAR-2024-017",
             "contact": "rgpd@solis.example"},
            {"name": "Hébergeur Numérique Sud", "contract_reference": "MAR-2023-002"},
        ],
        "dpo_name": "Nadia Benali",
        "dpo_contact": "dpo@valdeloire.example",
        "purpose": "Instruire et attribuer les aides sociales facultatives",
        "sub_purposes": ["Instruction des dossiers", "Paiement des aides", "Statistiques"],
        "legal_basis": "public_task",
        "legal_basis_details": "Code de l'action sociale et des familles, L123-5",
        "art9_condition": "h",
        "data_subjects": ["Usagers", "Membres du foyer"],
        "estimated_data_subjects": 4200,
        "data_categories": [
            {"category": "identity", "details": "Nom; prénom | adresse"},
            {"category": "economic_financial", "details": "Ressources, RIB"},
            {"category": "personal_life"},
        ],
        "special_categories": ["health", "nir"],
        "recipients": [{"name": "Agents instructeurs", "kind": "internal"},
                       {"name": "Trésorerie", "kind": "external"},
                       {"name": "Éditeur Solis", "kind": "processor"}],
        "transfers": [{"recipient": "Support éditeur", "country": "Maroc",
                       "safeguard": "standard_clauses", "details": "Télémaintenance"}],
        "retention_rules": [
            {"data_category": "identity", "duration": 5, "unit": "years",
             "start_event": "la clôture du dossier", "final_fate": "archives",
             "legal_reference": "Instruction DPACI/RES/2009/018"},
            {"data_category": "economic_financial", "duration": 10, "unit": "years",
             "start_event": "le dernier paiement", "final_fate": "destruction"},
            {"data_category": "personal_life", "duration": 18, "unit": "months",
             "start_event": "la décision", "final_fate": "anonymisation"},
        ],
        "security_measures": [{"measure": "access_control", "details": "Profils par service"},
                              {"measure": "backup"}, {"measure": "encryption"}],
        "data_sources": ["data_subject", "other_administration"],
        "source_details": "CAF (CDAP)",
        "linked_datasets": [],
        "linked_applications": ["Solis ASG", "Parapheur"],
        "dpia_criteria": ["sensitive_data", "vulnerable_persons"],
        "dpia_exemption": None,
    }
    values.update(fields)
    return ActivityInput.model_validate(values)
