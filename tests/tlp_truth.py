"""TLP 2.0 as published by FIRST / OASIS (../shared/DOMAIN.md), written out independently of the
package's own tables so tests compare the code with the standard, not with itself."""

LEVELS = ("clear", "green", "amber", "amber+strict", "red")
TLP_IDS = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
