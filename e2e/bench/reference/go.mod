module github.com/gatehouse-auth/reference

go 1.22
