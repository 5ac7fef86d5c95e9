-- Identity numbers are shown with their first two and last characters only
-- (`51***************4`). The record also shows the birth date and sex, which are digits 7-14
-- and the parity of digit 17; with the four trailing digits shown as well, the whole number
-- could be worked out from what every viewer sees. Rewrites the stored masked forms.
UPDATE residents
SET id_masked = substr(id_masked, 1, 2)
    || substr('********************************', 1, length(id_masked) - 3)
    || substr(id_masked, length(id_masked), 1)
WHERE id_masked IS NOT NULL AND length(id_masked) >= 8;
