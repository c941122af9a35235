package prescribe

import (
	"github.com/porxgate/porxgate/mapping/core"
)

// OIDs of the v3 code systems of a prescription that v3/oids.go leaves out.
const (
	oidEndorsement = "2.16.840.1.113883.2.1.3.2.4.16.32"
)

// treatmentTypeFromCourse maps a course of therapy code to a treatment type.
func treatmentTypeFromCourse(course string) (string, bool) {
	switch course {
	case core.CourseAcute:
		return core.TreatmentAcute, true
	case core.CourseContinuous:
		return core.TreatmentRepeat, true
	case core.CourseContinuousRepeatDispense:
		return core.TreatmentRepeatDispensed, true
	}
	return "", false
}

// courseFromTreatmentType maps a v3 treatment type to the course of therapy
// coding the EPS API uses.
func courseFromTreatmentType(tt string) (code, display string, ok bool) {
	switch tt {
	case core.TreatmentAcute:
		return core.CourseAcute, "Short course (acute) therapy", true
	case core.TreatmentRepeat:
		return core.CourseContinuous, "Continuous long term therapy", true
	case core.TreatmentRepeatDispensed:
		return core.CourseContinuousRepeatDispense, "Continuous long term (repeat dispensing)", true
	}
	return "", "", false
}
